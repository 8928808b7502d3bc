import type { Tier } from "@taster/core";
import { HOOK_NAMES } from "../discovery";
import { emptyTimings, type TestRow, type TierResult, tierStatusFromRows } from "../results";
import type { Live } from "./live";
import type { Op } from "./ops/index";
import type { PreparedRun } from "./prepare";
import { runAssertions, runHook } from "./sandboxed";
import { asTasterError } from "./session";

/** A stopwatch: it only measures (whatever runs between start and read). */
export function stopwatch(): () => number {
  const t0 = Date.now();
  return () => Date.now() - t0;
}

const tierBudgetMs = (run: PreparedRun) =>
  (run.opts.tierTimeoutSeconds ?? run.settings.tierTimeout ?? 300) * 1000;

/**
 * hook → op → assertions. The assertions' jest process starts while the op runs (its broker calls
 * wait for the op), so jest's start-up is hidden behind the deploy; the tier's clock (tierTimeout)
 * covers the hook and the assertions, not the op (which has its own convergence timeout).
 */
export async function runTier(run: PreparedRun, live: Live, tier: Tier, op: Op): Promise<TierResult> {
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
  const opDone = deferred();
  // The assertions subscribe only once their sandbox is set up; an op that fails sooner (e.g. the
  // engine went away) must not leave the rejection unhandled — that would end the worker process.
  opDone.promise.catch(() => undefined);
  const cancel = new AbortController();
  const files = run.customization.assertions[tier];
  const gate = { plan: op.plan, gate: opDone.promise, cancel: cancel.signal };
  const assertions = runAssertions(run, live, tier, files, { budgetMs, ...gate });
  // Awaited below; until then a rejection (e.g. the run was interrupted) must not go unhandled.
  assertions.catch(() => undefined);
  const stopAssertions = async (why: unknown) => {
    opDone.reject(why);
    cancel.abort();
    await assertions.catch(() => undefined);
  };
  const opTime = stopwatch();
  const opRow = await doOp(run, live, tier, op).catch(async (error: unknown) => {
    await stopAssertions(error);
    throw error;
  });
  timings.opMs = opTime();
  if (opRow.status === "fail") {
    await stopAssertions(new Error("op failed"));
    return finish({ status: "fail", reason: opRow.failure, tests: [opRow] }, op.deployed);
  }
  opDone.resolve();
  const assertTime = stopwatch();
  const rows = await assertions;
  timings.assertMs = assertTime();
  return finish({ ...tierStatusFromRows(rows), tests: [opRow, ...rows] }, op.deployed);
}

/** Promise.withResolvers (Node 22) for Node 20. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
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
