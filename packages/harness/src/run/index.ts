import type { TasterError } from "@taster/core";
import type { Results } from "../results";
import { keepIfGreen } from "../warm/keep";
import { lint } from "./lint";
import { freshStage } from "./ops/fresh";
import type { RunOptions } from "./options";
import { buildResults, writeOutputs } from "./outputs";
import { prepare } from "./prepare";
import { asTasterError, openSession, type Session } from "./session";
import { teardown } from "./teardown";
import { stopwatch } from "./tier";
import { runTiers } from "./tiers";
import { announceVerdict } from "./verdict";

export { DEFAULT_ALLOWLIST, MARKER_KEY, RESTORE_CHECK_KEY, type RunOptions } from "./options";

/**
 * One recipe at one commit → a verdict: fetch into a fresh workspace, deploy ONCE, run the tiers
 * against that deployment, announce the verdict (opts.onVerdict), tear down always, write
 * results.json + run.log. Never throws for a
 * failing recipe; throws only before anything could be recorded (bad options).
 */
export async function runRecipe(opts: RunOptions): Promise<Results> {
  const session = openSession(opts);
  const startedAt = new Date();
  const failure = await lifecycle(session);
  // A usage error (bad options, a ref that is not there) is the caller's: no run happened.
  if (failure?.kind === "usage") {
    await teardown(session);
    await session.log.close();
    throw failure;
  }
  await announceVerdict(session, startedAt, failure);
  await keepIfGreen(session, startedAt, failure);
  const took = stopwatch();
  const residue = await teardown(session);
  const results = buildResults(session, { startedAt, failure, residue, teardownMs: took() });
  await session.openLogFile();
  return writeOutputs(session, results);
}

/** prepare → lint → tiers → fresh; what stopped the run, if anything did (never thrown). */
async function lifecycle(session: Session): Promise<TasterError | null> {
  try {
    const run = await prepare(session);
    if (await lint(run)) {
      await runTiers(run);
      await freshStage(run);
    }
    return null;
  } catch (error) {
    const failure = asTasterError(error);
    if (failure.kind !== "usage") {
      const hint = failure.hint ? ` (hint: ${failure.hint})` : "";
      session.log.event("error", `${failure.kind} error: ${failure.message}${hint}`);
    }
    return failure;
  }
}
