/** The CLI table: what `taster run` prints at the end of a run, one line per tier. */
import type { Results } from "@taster/contracts";
import { printable } from "@taster/core";
import { repoLocalNotRun, rowsOf, testCount } from "./model";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
/** Text from the PR on one terminal line: no escape sequence may recolour, move or retitle the terminal. */
const line1 = (text: string) => printable(text).replace(/[\n\t]+/g, " ");

/** `install (1.1.0+1.1)`: the tier and what its op deployed, so a PASS never hides which version. */
export const tierLabel = (tier: string, deployed: string | undefined) =>
  deployed ? `${tier} (${line1(deployed)})` : tier;

/**
 * Taster's own settings for the recipe are wrong: nothing was judged, so one line (file, key,
 * reason) and no tiers, no level.
 */
function configErrorLine(results: Results): string {
  return `${results.recipe} @ ${results.sha.slice(0, 12)}: ERROR — configuration error, no tier was run: ${printable(results.error ?? "")} (see docs/settings.md)`;
}

/** The final table a person reads: one line per tier, then the level and the run's flags. */
export function resultsTable(results: Results): string {
  if (results.errorKind === "config") return configErrorLine(results);
  const notRun = repoLocalNotRun(results);
  const rows = rowsOf(results).map(([tier, t]) => {
    return [
      tierLabel(tier, t.deployed),
      t.status.toUpperCase(),
      testCount(t) ?? "-",
      t.timings.totalMs ? seconds(t.timings.totalMs) : "-",
      line1(t.reason ?? ""),
    ];
  });
  const header = ["tier", "status", "tests", "time", "note"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const failures = rowsOf(results).flatMap(([tier, t]) =>
    t.tests
      .filter((r) => r.status !== "pass")
      .map(
        (r) =>
          `  ${tier}: ${line1(`${r.file} › ${r.name}`)}${r.failure ? `\n    ${printable(r.failure).split("\n").slice(0, 6).join("\n    ")}` : ""}`,
      ),
  );
  const findings = (results.lint?.findings ?? []).map(
    (x) => `  ${x.severity}: ${line1(`${x.check} — ${x.message}`)}\n    rule: ${line1(x.source)}`,
  );
  const f = results.flags;
  const fresh = f.freshDeploys === undefined ? "" : `, fresh stack ${f.freshDeploys} deploy`;
  return [
    line(header),
    ...rows.map(line),
    ...(notRun ? ["", line1(notRun.line)] : []),
    ...(notRun?.approve ? [`  an admin approves this content with: ${line1(notRun.approve)}`] : []),
    "",
    `${results.recipe} @ ${results.sha.slice(0, 12)}: ${results.outcome.toUpperCase()}, level L${results.level}` +
      ` (base ${line1(results.versions.base ?? "none")} → head ${line1(results.versions.head)})`,
    `deployCount ${f.deployCount} (+${f.upgradeRedeploys} upgrade redeploy${fresh}), teardown ${f.cleanTeardown ? "clean" : `RESIDUE ${line1(results.residue.join(", "))}`}, secrets ${f.noSecretLeak ? "no leak" : "LEAK REDACTED"}, total ${seconds(results.timings.totalMs)}`,
    ...(results.error ? [`error: ${printable(results.error)}`] : []),
    ...(findings.length ? ["", "lint:", ...findings] : []),
    ...(failures.length ? ["", "failures:", ...failures] : []),
  ].join("\n");
}
