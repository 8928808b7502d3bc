/** The sweep's CLI table: one line per recipe, one cell per tier, then the triage of each failure. */
import type { Sweep, SweepRow, SweepTier } from "@taster/contracts";
import { printable, TIERS } from "@taster/core";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const line1 = (text: string) => printable(text).replace(/[\n\t]+/g, " ");

/** `PASS 9.8s`, `FAIL 3.1s flake`, `na`: the tier's status, time and, when it failed, its class. */
function tierCell(t: SweepTier | undefined): string {
  if (!t) return "-";
  if (t.status === "na" || t.status === "skip") return t.status;
  const cls = t.classification ? ` ${t.classification}` : "";
  return `${t.status.toUpperCase()} ${seconds(t.durationMs)}${cls}`;
}

function rowCells(r: SweepRow): string[] {
  return [
    line1(r.recipe),
    line1(r.version ?? "none"),
    `L${r.level}`,
    r.verdict.toUpperCase(),
    ...TIERS.map((t) => tierCell(r.tiers[t])),
    r.classification ?? "-",
  ];
}

function attemptLines(r: SweepRow): string[] {
  return Object.entries(r.tiers).flatMap(([tier, t]) =>
    (t.attempts ?? []).map(
      (a) =>
        `  ${line1(r.recipe)} ${tier} re-run ${a.attempt}: ${a.status.toUpperCase()} in ${seconds(a.durationMs)}` +
        `${a.alone ? ", alone" : `, NOT alone (${line1(a.others.join(", "))})`} — ${line1(a.log)}` +
        (a.error ? `\n    ${line1(a.error).slice(0, 200)}` : ""),
    ),
  );
}

/** What happened to a warm recipe's known-good, in one line. */
function warmLine(r: SweepRow): string[] {
  const w = r.warm;
  if (!w) return [];
  const what =
    w.action === "advanced"
      ? `advanced ${w.from} → ${w.version}`
      : w.action === "advance-failed"
        ? `advance failed, known-good stays ${w.version}`
        : w.action === "kept"
          ? `kept ${w.version} as the known-good`
          : w.action === "unchanged"
            ? `unchanged at ${w.version}`
            : "no known-good kept";
  const why = w.reason ? `: ${line1(w.reason).slice(0, 400)}` : "";
  return [`  ${line1(r.recipe)}: ${line1(what)}${why}${w.log ? ` — ${line1(w.log)}` : ""}`];
}

export function sweepTable(sweep: Sweep): string {
  const header = ["recipe", "version", "level", "verdict", ...TIERS, "triage"];
  const rows = sweep.recipes.map(rowCells);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const errors = sweep.recipes
    .filter((r) => r.error)
    .map((r) => `  ${line1(r.recipe)}: ${line1(r.error ?? "").slice(0, 300)}`);
  const attempts = sweep.recipes.flatMap(attemptLines);
  const warm = sweep.recipes.flatMap(warmLine);
  const counts = (v: string) => sweep.recipes.filter((r) => r.verdict === v).length;
  return [
    line(header),
    ...rows.map(line),
    "",
    `${sweep.recipes.length} recipe(s): ${counts("pass")} pass, ${counts("fail")} fail, ${counts("error")} error` +
      ` (re-runs per failed tier: ${sweep.attempts})`,
    ...(attempts.length ? ["", "triage:", ...attempts] : []),
    ...(warm.length ? ["", "warm known-goods:", ...warm] : []),
    ...(errors.length ? ["", "errors:", ...errors] : []),
  ].join("\n");
}
