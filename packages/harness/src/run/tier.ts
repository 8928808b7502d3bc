import type { Tier } from "@taster/core";
import type { Plan } from "@taster/swarm";
import { HOOK_NAMES } from "../discovery";
import { emptyTimings, type TestRow, type TierResult, tierStatusFromRows } from "../results";
import type { Live } from "./live";
import type { Op } from "./ops/index";
import type { PreparedRun } from "./prepare";
import { announceAssertions, runAssertions, runHook } from "./sandboxed";
import { asTasterError } from "./session";

/** A stopwatch: it only measures (whatever runs between start and read). */
export function stopwatch(): () => number {
  const t0 = Date.now();
  return () => Date.now() - t0;
}

export const tierBudgetMs = (run: PreparedRun) =>
  (run.opts.tierTimeoutSeconds ?? run.settings.tierTimeout ?? 300) * 1000;

/** A tier's assertions under way: their jest runs, its tests wait for `opDone` (the broker's gate). */
export interface PendingAssertions {
  readonly rows: Promise<TestRow[]>;
  readonly opDone: Deferred;
  /** The op failed: the assertions stop (and say so). */
  readonly cancel: AbortController;
  /** The tier will not run (a jest started ahead): they stop and say nothing. */
  readonly abandon: AbortController;
  /** Whether "N file(s), started alongside the op" is still to be logged (a jest started ahead). */
  readonly unannounced: boolean;
}

/** Starts the tier's assertion files in their jest process, gated on the op (see PendingAssertions). */
export function startAssertions(
  run: PreparedRun,
  live: Live,
  tier: Tier,
  call: { budgetMs: number; plan?: Plan | undefined; announce?: boolean },
): PendingAssertions {
  const opDone = deferred();
  // The assertions subscribe only once their sandbox is set up; an op that fails sooner (e.g. the
  // engine went away) must not leave the rejection unhandled — that would end the worker process.
  opDone.promise.catch(() => undefined);
  const cancel = new AbortController();
  const abandon = new AbortController();
  const files = run.customization.assertions[tier];
  const rows = runAssertions(run, live, tier, files, {
    ...call,
    gate: opDone.promise,
    cancel: cancel.signal,
    abandon: abandon.signal,
  });
  // Awaited later; until then a rejection (e.g. the run was interrupted) must not go unhandled.
  rows.catch(() => undefined);
  return { rows, opDone, cancel, abandon, unannounced: call.announce === false };
}

/**
 * hook → op → assertions. The assertions' jest process starts while the op runs (its broker calls
 * wait for the op), so jest's start-up is hidden behind the deploy; the tier's clock (tierTimeout)
 * covers the hook and the assertions, not the op (which has its own convergence timeout).
 * `ahead`: the tier's assertions, started before the tier began (early.ts); `afterOp`: called
 * once the op is done (it may start the next tier's jest).
 */
export async function runTier(
  run: PreparedRun,
  live: Live,
  tier: Tier,
  op: Op,
  extra: { ahead?: PendingAssertions | null; afterOp?: () => void } = {},
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
  const pending = extra.ahead ?? startAssertions(run, live, tier, { budgetMs, plan: op.plan });
  const stopAssertions = async (why: unknown) => {
    pending.opDone.reject(why);
    pending.cancel.abort();
    await pending.rows.catch(() => undefined);
  };
  const opTime = stopwatch();
  const opRow = await doOp(run, live, tier, op).catch(async (error: unknown) => {
    await stopAssertions(error);
    throw error;
  });
  timings.opMs = opTime();
  if (pending.unannounced) announceAssertions(run, tier, run.customization.assertions[tier]);
  if (opRow.status === "fail") {
    await stopAssertions(new Error("op failed"));
    return finish({ status: "fail", reason: opRow.failure, tests: [opRow] }, op.deployed);
  }
  extra.afterOp?.();
  pending.opDone.resolve();
  const assertTime = stopwatch();
  const rows = await pending.rows;
  timings.assertMs = assertTime();
  return finish({ ...tierStatusFromRows(rows), tests: [opRow, ...rows] }, op.deployed);
}

type Deferred = { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void };

/** Promise.withResolvers (Node 22) for Node 20. */
function deferred(): Deferred {
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
