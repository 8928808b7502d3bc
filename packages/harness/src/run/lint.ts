import { describeFinding, lintRecipe, tiersStoppedByLint } from "../lint/index";
import type { PreparedRun } from "./prepare";

/** The lint row (src/lint/): false when it found an error, so nothing is deployed. */
export async function lint(run: PreparedRun): Promise<boolean> {
  const result = await lintRecipe({
    host: run.host,
    dir: run.checkoutDir,
    base: run.base ? { dir: run.base.dir, tag: run.base.tag } : null,
    stack: run.stack,
    domain: run.domain,
    settings: run.settings,
    renders: run.renders,
  });
  run.record.lint = result;
  for (const finding of result.findings) run.log.event("lint", describeFinding(finding));
  run.log.event("lint", `${result.status.toUpperCase()}${result.reason ? ` — ${result.reason}` : ""}`);
  if (result.status !== "fail") return true;
  Object.assign(run.record.tiers, tiersStoppedByLint(result));
  return false;
}
