import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { DEFAULT_ACCEPTABLE_STATUSES, SettingsSchema } from "./settings";

/** Where the generated page lives in the repository. */
export const SETTINGS_DOC_PATH = join(dirname(fileURLToPath(import.meta.url)), "../../../docs/settings.md");

/** The command that regenerates it, for error messages. */
export const SETTINGS_DOC_COMMAND = "./node_modules/.bin/tsx packages/recipe/scripts/write-settings-doc.ts";

type JsonSchema = {
  type?: string | string[];
  description?: string;
  items?: JsonSchema;
  enum?: string[];
  propertyNames?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  properties?: Record<string, JsonSchema>;
};

/**
 * The markdown table of `taster.yml` keys, generated from SettingsSchema so docs/settings.md
 * cannot drift from what loadSettings accepts (a test compares the two).
 */
export function settingsTable(): string {
  const schema = z.toJSONSchema(SettingsSchema, { io: "input" }) as JsonSchema;
  const defaults: Record<string, unknown> = SettingsSchema.parse({});
  const rows = Object.entries(schema.properties ?? {}).map(([key, field]) => [
    `\`${key}\``,
    typeText(field),
    defaultText(defaults[key]),
    cell(field.description ?? ""),
  ]);
  return alignedTable(["key", "type", "default", "meaning"], rows);
}

// Padded the way `biome format` lays out markdown tables, so formatting the repo keeps the page current.
function alignedTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The whole docs/settings.md page. */
export function settingsPage(): string {
  return [
    "# Recipe settings (`recipes-tests/<recipe>/taster.yml`)",
    "",
    "<!-- Generated from packages/recipe/src/settings.ts by settings-doc.ts; do not edit by hand. -->",
    "",
    "Every key is optional; a recipe without the file gets every default. Keys are checked strictly:",
    "an unknown key or a wrong type is an error that names the key and the file. Such an error is",
    "Taster's configuration error, not the recipe's verdict: the run ends `ERROR` (exit 2, no level,",
    '`errorKind: config` in results.json), the PR comment says "configuration error", and the worker',
    "does not retry it.",
    "",
    settingsTable(),
    "",
    "Example:",
    "",
    "```yaml",
    "healthPath: /login",
    "acceptableStatuses: [200, 302]",
    "upgradeBase: 1.0.0+1.0",
    "na:",
    "  backup: stateless, nothing to back up",
    "env:",
    "  LOG_LEVEL: debug",
    "```",
    "",
  ].join("\n");
}

function typeText(field: JsonSchema): string {
  if (field.enum) return field.enum.map((v) => `\`${v}\``).join(" \\| ");
  const type = Array.isArray(field.type) ? field.type.join(" \\| ") : (field.type ?? "any");
  if (type === "array" && field.items) return `list of ${typeText(field.items)}`;
  if (type === "object" && typeof field.additionalProperties === "object") {
    const key = field.propertyNames ? typeText(field.propertyNames) : "string";
    return `map of ${key} → ${typeText(field.additionalProperties)}`;
  }
  return type;
}

function defaultText(value: unknown): string {
  if (value === undefined) return "(see meaning)";
  if (value === DEFAULT_ACCEPTABLE_STATUSES || isDefaultStatuses(value)) return "200–399 (every one)";
  return `\`${JSON.stringify(value)}\``;
}

const isDefaultStatuses = (value: unknown): boolean =>
  Array.isArray(value) &&
  value.length === DEFAULT_ACCEPTABLE_STATUSES.length &&
  value.every((v, i) => v === DEFAULT_ACCEPTABLE_STATUSES[i]);

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
