/**
 * Flake triage: a tier that failed in the sweep is re-run on its own (install, then that tier)
 * alone on the host, up to N times. Green alone → flake; red again → genuine; only infrastructure
 * errors → infra. Attempts run one after another, never two at once.
 */
import { join } from "node:path";
import type { FlakeClass, Results, SweepAttempt } from "@taster/contracts";
import { errorMessage, parseStages, TIERS, type Tier } from "@taster/core";
import { tiersThatFailed } from "@taster/report";
import { runRecipe } from "../run/index";
import type { RunOptions } from "../run/options";
import { waitUntilAlone } from "./idle";

export interface TriageContext {
  /** The sweep run's options: the same source, sha, host and overlays for every attempt. */
  run: RunOptions;
  hostUrl: string;
  attempts: number;
  idleTimeoutMs: number;
  /** The sweep directory and this recipe's directory inside it (paths in sweep.json are relative). */
  sweepDir: string;
  recipeDir: string;
  onEvent?: (message: string) => void;
}

/** The tiers to triage: those that failed, else (an error) the tier the run stopped at. */
export function tiersToTriage(results: Results): Tier[] {
  const failed = tiersThatFailed(results);
  if (failed.length > 0 || results.outcome === "pass") return failed;
  return [TIERS.find((tier) => results.tiers[tier].status === "skip") ?? "install"];
}

/** The class a tier earns from its re-runs (see the module comment). */
export function classify(attempts: readonly Pick<SweepAttempt, "status">[]): FlakeClass {
  if (attempts.some((a) => a.status === "pass")) return "flake";
  if (attempts.some((a) => a.status === "fail")) return "genuine";
  return "infra";
}

/** Re-runs one tier until it is green or the attempts are used up; returns the attempts and the class. */
export async function triageTier(
  tier: Tier,
  ctx: TriageContext,
): Promise<{ classification: FlakeClass; attempts: SweepAttempt[] }> {
  const attempts: SweepAttempt[] = [];
  for (let n = 1; n <= ctx.attempts; n++) {
    const attempt = await rerun(tier, n, ctx);
    attempts.push(attempt);
    ctx.onEvent?.(`triage ${tier} attempt ${n}/${ctx.attempts}: ${attempt.status.toUpperCase()}`);
    if (attempt.status === "pass") break;
  }
  return { classification: classify(attempts), attempts };
}

async function rerun(tier: Tier, n: number, ctx: TriageContext): Promise<SweepAttempt> {
  const rel = join(ctx.recipeDir, "triage", `${tier}-${n}`);
  const outDir = join(ctx.sweepDir, rel);
  const started = Date.now();
  const base = { attempt: n, results: join(rel, "results.json"), log: join(rel, "run.log") };
  let others: string[];
  try {
    others = await waitUntilAlone({
      hostUrl: ctx.hostUrl,
      ...(ctx.run.hostOptions ? { hostOptions: ctx.run.hostOptions } : {}),
      timeoutMs: ctx.idleTimeoutMs,
      ...(ctx.run.signal ? { signal: ctx.run.signal } : {}),
      onWaiting: (o) =>
        ctx.onEvent?.(`triage ${tier}: waiting for the host to be idle (other stacks: ${o.join(", ")})`),
    });
  } catch (error) {
    const why = `the host did not answer: ${errorMessage(error)}`;
    return {
      ...base,
      status: "error",
      durationMs: Date.now() - started,
      alone: false,
      others: [],
      error: why,
    };
  }
  try {
    const results = await runRecipe({
      ...ctx.run,
      stages: parseStages(tier),
      outDir,
      nameSalt: `triage-${tier}-${n}`,
    });
    const status = attemptStatus(results, tier);
    return {
      ...base,
      status,
      durationMs: Date.now() - started,
      alone: others.length === 0,
      others,
      ...(status !== "pass" && results.error ? { error: results.error } : {}),
    };
  } catch (error) {
    return {
      ...base,
      status: "error",
      durationMs: Date.now() - started,
      alone: others.length === 0,
      others,
      error: errorMessage(error),
    };
  }
}

/** pass when the tier passed; error when the run stopped on an infrastructure error; else fail. */
function attemptStatus(results: Results, tier: Tier): SweepAttempt["status"] {
  if (results.tiers[tier].status === "pass") return "pass";
  if (results.outcome === "error" && results.errorKind !== "config") return "error";
  return "fail";
}
