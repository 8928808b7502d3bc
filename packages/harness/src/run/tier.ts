import type { Tier } from "@taster/core";
import { HOOK_NAMES } from "../discovery";
import { emptyTimings, type TestRow, type TierResult, tierStatusFromRows } from "../results";
import type { Live } from "./live";
import type { Op } from "./ops/index";
import type { PreparedRun } from "./prepare";
import { type StartedAssertions, startAssertions } from "./prestart";
import { runHook } from "./sandboxed";
import { asTasterError } from "./session";

/** A stopwatch: it only measures (whatever runs between start and read). */
export function stopwatch(): () => number {
  const t0 = Date.now();
  return () => Date.now() - t0;
}

export const tierBudgetMs = (run: PreparedRun) =>
  (run.opts.tierTimeoutSeconds ?? run.settings.tierTimeout ?? 300) * 1000;

/**
 * hook → op → assertions. The assertions' jest process starts while the op runs (its broker calls
 * wait for the op), so jest's start-up is hidden behind the deploy — or earlier (`started`, the
 * custom tier's, during the tier before it); the tier's clock (tierTimeout)
 * covers the hook and the assertions, not the op (which has its own convergence timeout).
 */
export async function runTier(
  run: PreparedRun,
  live: Live,
  tier: Tier,
  op: Op,
  started?: StartedAssertions,
): Promise<TierResult> {
  const timings = emptyTimings();
  const total = stopwatch();
  const finish = (result: Omit<TierResult, "timings">, deployed?: string): TierResult => ({
    ...result,
    ...(deployed ? { deployed } : {}),
    timings: { ...timings, totalMs: total() },
  });
  let budgetMs = tierBudgetMs(run);
  const hookName = tier === "custom" ? undefined : HOOK_NAMES[tier];
  if (hookName) {
    const hookTime = stopwatch();
    const hook = await runHook(run, live, tier, hookName, budgetMs);
    timings.hookMs = hookTime();
    budgetMs = Math.max(1_000, budgetMs - timings.hookMs);
    if (hook) return finish(hook);
  }
  const assertions = started ?? startAssertions(run, live, tier, { budgetMs, plan: op.plan });
  const opTime = stopwatch();
  const opRow = await doOp(run, live, tier, op).catch(async (error: unknown) => {
    await assertions.stop(error);
    throw error;
  });
  timings.opMs = opTime();
  if (opRow.status === "fail") {
    await assertions.stop(new Error("op failed"));
    return finish({ status: "fail", reason: opRow.failure, tests: [opRow] }, op.deployed);
  }
  assertions.opDone();
  const assertTime = stopwatch();
  const rows = await assertions.rows;
  timings.assertMs = assertTime();
  return finish({ ...tierStatusFromRows(rows), tests: [opRow, ...rows] }, op.deployed);
}

/** The op, done once by the orchestrator, as a row of its own so a failure says what broke. */
async function doOp(run: PreparedRun, live: Live, tier: Tier, op: Op): Promise<TestRow> {
  const took = stopwatch();
  run.log.event("op", op.name, tier);
  try {
    await op.run(live);
    run.log.event("op", `done in ${(took() / 1000).toFixed(1)}s`, tier);
    return { file: "(taster)", name: op.name, status: "pass", durationMs: took() };
  } catch (error) {
    const failure = asTasterError(error);
    // A cancelled run is no op failure: it ends the run (an infra error), not the tier.
    if (failure.kind === "infra" && failure.message.startsWith("interrupted")) throw failure;
    return { file: "(taster)", name: op.name, status: "fail", durationMs: took(), failure: failure.message };
  }
}
