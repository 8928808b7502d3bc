import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { INTERNAL_VARIABLES, type Section, VARIABLES, type Variable } from "./schema";

/** Where the generated page lives in the repository. */
export const CONFIG_DOC_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../../docs/configuration.md",
);

/** The command that regenerates it, for error messages. */
export const CONFIG_DOC_COMMAND = "./node_modules/.bin/tsx packages/config/scripts/write-config-doc.ts";

/** Who reads each section: the page says it once per section. */
const SECTIONS: Record<Section, string> = {
  redis: "the Redis every process shares (bridge, worker, doctor, janitor, `run --publish`)",
  forge: "the bot on GitHub / Gitea (bridge, worker, doctor)",
  hosts: "the swarm hosts runs go to (bridge routes, worker consumes, doctor checks)",
  bridge: "the bridge's HTTP side (webhooks, dashboard, health, metrics)",
  intake: "which commands start runs (the bridge's intake role)",
  dashboard: "the dashboard's live logs",
  worker: "how the worker makes runs",
  sandbox: "the users overlay tests run as (the harness, in the worker)",
  sweep: "the scheduled sweep of every enrolled recipe (worker) and `taster sweep`",
  paths: "this machine's Taster: the CLI, the lab, logging",
};

function defaultText(variable: Variable): string {
  if (variable.defaultText) return variable.defaultText;
  const result = variable.schema.safeParse(undefined);
  if (!result.success || result.data === undefined) return "(unset)";
  if (result.data === "") return "(empty)";
  return `\`${String(result.data)}\``;
}

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

// Padded the way `biome format` lays out markdown tables, so formatting the repo keeps the page current.
function alignedTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** name, section, default, description: one row per variable, in the schema's order. */
export function configurationTable(): string {
  const rows = Object.entries(VARIABLES).map(([name, v]) => [
    `\`${name}\``,
    v.section,
    cell(defaultText(v)),
    cell(`${v.description}${"secret" in v && v.secret ? " Secret: never printed." : ""}`),
  ]);
  return alignedTable(["variable", "section", "default", "description"], rows);
}

/** The whole docs/configuration.md page. */
export function configurationPage(): string {
  const sections = Object.entries(SECTIONS).map(([name, who]) => `- \`${name}\`: ${who}`);
  const internal = Object.entries(INTERNAL_VARIABLES).map(([name, what]) => `- \`${name}\`: ${what}`);
  return [
    "# Configuration (`TASTER_*` environment variables)",
    "",
    "<!-- Generated from packages/config/src/schema.ts by packages/config/scripts/write-config-doc.ts; do not edit by hand. -->",
    "",
    "Every Taster process (`taster bridge`, `taster worker`, `taster doctor`, `taster janitor`, the",
    "other commands) reads its configuration through one function, `readConfig` in `@taster/config`,",
    "from the variables below. An empty variable counts as unset. A bad value stops the process",
    "before it does anything: the message names every bad variable with an example of a good value",
    "(a secret's value is never shown) and the command exits 2.",
    "",
    "Sections, and who reads them:",
    "",
    ...sections,
    "",
    configurationTable(),
    "",
    "Set by Taster itself, or read only by its own tests:",
    "",
    ...internal,
    "",
  ].join("\n");
}
