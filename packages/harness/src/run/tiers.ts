import { TasterError, TIERS, type Tier } from "@taster/core";
import { engineProblem } from "@taster/swarm";
import { emptyTimings, naTier, skippedTier, type TestRow, type TierResult } from "../results";
import { EarlyCustom } from "./early";
import { Live } from "./live";
import { type InstallOp, OPS, type Op } from "./ops/index";
import type { PreparedRun } from "./prepare";
import { asTasterError, throwIfCancelled } from "./session";
import { runTier } from "./tier";

/**
 * Every tier in lifecycle order against the one deployment: a tier not requested or declared n/a
 * gets its row without running; after a failing tier the rest are skipped.
 */
export async function runTiers(run: PreparedRun): Promise<void> {
  const { record, log } = run;
  const deployment: Deployment = { live: null };
  const early = new EarlyCustom(run);
  let stopped: string | undefined;
  try {
    for (const tier of TIERS) {
      throwIfCancelled(run);
      if (deployment.live) deployment.live.tier = tier;
      const result = stopped ? skippedTier(stopped) : await tierResult(run, tier, deployment, early);
      record.tiers[tier] = result;
      if (result.status === "fail") await blameEngineIfGone(run, tier);
      log.event("tier", `${result.status.toUpperCase()}${result.reason ? ` — ${result.reason}` : ""}`, tier);
      if (result.status === "fail") stopped = `not run: ${tier} failed`;
    }
  } finally {
    await early.abandon();
  }
}

/** The deployment the tiers share: none until the install op brings it up. */
interface Deployment {
  live: Live | null;
}

async function tierResult(
  run: PreparedRun,
  tier: Tier,
  deployment: Deployment,
  early: EarlyCustom,
): Promise<TierResult> {
  const declared = tier === "install" ? undefined : run.settings.na[tier];
  if (!run.stages.includes(tier)) return naTier("not-requested", "not in --stages");
  if (declared) return naTier("declared", declared);
  const op = await prepareOrFail(() => OPS[tier](run, deployment.live));
  if ("status" in op) return op;
  // The install op's app goes live here, before its hook and assertions (they use the broker).
  if (isInstall(op)) deployment.live = await Live.start(run, op.app);
  const { live } = deployment;
  if (!live) throw new Error(`the ${tier} op has no deployment to act on`);
  return runTier(run, live, tier, op, early.forTier(tier, live));
}

const isInstall = (op: Op): op is InstallOp => "app" in op;

/** A recipe problem found while preparing a tier's op (e.g. compose that does not render) fails that tier. */
async function prepareOrFail(prepareOp: () => Promise<Op | TierResult>): Promise<Op | TierResult> {
  try {
    return await prepareOp();
  } catch (error) {
    const failure = asTasterError(error);
    if (failure.kind !== "recipe" && failure.kind !== "test") throw failure;
    const row: TestRow = {
      file: "(taster)",
      name: "prepare the op",
      status: "fail",
      durationMs: 0,
      failure: failure.message,
    };
    return { status: "fail", reason: failure.message, tests: [row], timings: emptyTimings() };
  }
}

/**
 * A tier that failed while the engine went away (restarted, crashed, link cut) says nothing about
 * the recipe: the run ends as an infrastructure error (the worker retries it), not as a red verdict.
 */
async function blameEngineIfGone(run: PreparedRun, tier: Tier): Promise<void> {
  const problem = await engineProblem(run.host);
  if (!problem) return;
  const failed = run.record.tiers[tier]?.reason;
  run.record.tiers[tier] = skippedTier(`interrupted: ${problem}`);
  throw new TasterError(
    "infra",
    `the Docker engine went away during the ${tier} tier: ${problem}${failed ? ` (the tier saw: ${failed})` : ""}`,
  );
}
