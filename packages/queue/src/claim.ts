import type { Redis } from "ioredis";
import { commandsOf } from "./commands";
import type { Keys } from "./keys";

/** How a run request was taken: a new run, or folded into one that already covers it. */
export type ClaimOutcome = "enqueued" | "coalesced" | "duplicate-delivery" | "duplicate-comment";

export interface Claim {
  outcome: ClaimOutcome;
  runId: string;
  /** The run this request made obsolete (a newer sha for the same PR), if any. */
  superseded?: string;
  /** The state the superseded run was in when it was superseded. */
  supersededState?: string;
  /** The state of the run `runId` names, as the script saw it ("claimed" = not yet in BullMQ). */
  runState: string;
}

export interface ClaimInput {
  forge: string;
  repo: string;
  pr: number;
  sha: string;
  commentId: number;
  deliveryId: string;
  runBase: string;
  /** The job as JSON, without runId (stored on the run so an interrupted enqueue can finish). */
  jobJson: string;
  bullQueuePrefix: string;
  ttlSec: number;
}

/** One atomic claim (commands/claimRun-6.lua): dedupe, coalesce or supersede; see the script. */
export async function claimRun(redis: Redis, keys: Keys, input: ClaimInput): Promise<Claim> {
  const reply = (await commandsOf(redis).claimRun(
    keys.delivery(input.forge, input.deliveryId),
    keys.comment(input.forge, input.repo, input.commentId),
    keys.pull(input.forge, input.repo, input.pr),
    keys.runs(),
    keys.runSeq(),
    keys.pullRuns(input.forge, input.repo, input.pr),
    input.runBase,
    input.sha,
    String(input.ttlSec),
    input.jobJson,
    String(Date.now()),
    keys.runPrefix(),
    input.bullQueuePrefix,
  )) as [ClaimOutcome, string, string, string, string];
  const [outcome, runId, superseded, supersededState, runState] = reply;
  return {
    outcome,
    runId,
    runState,
    ...(superseded ? { superseded, supersededState } : {}),
  };
}

export async function transitionRun(
  redis: Redis,
  keys: Keys,
  runId: string,
  from: string,
  to: string,
): Promise<boolean> {
  return (await commandsOf(redis).transitionRun(keys.run(runId), from, to)) === 1;
}
