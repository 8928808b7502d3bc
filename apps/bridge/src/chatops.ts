import type { Results } from "@taster/contracts";
import { Redactor, type Stage, type Tier } from "@taster/core";
import type { RunQueues, RunRecord } from "@taster/queue";
import { failedTiers, renderCancelled, reportContext, tiersThatFailed } from "@taster/report";

/** One PR, as the chat commands name it. */
export interface PullRef {
  forge: string;
  repo: string;
  pr: number;
}

/** What `retry` or `failed` will run, or why nothing runs (Taster's words for the reply). */
export type Rerun = { stages: Stage[]; from: RunRecord; failed?: Tier[] } | { refusal: string };

const FINISHED = new Set(["done", "failed", "cancelled"]);

/** The PR's runs queued through a forge, newest first (a local `taster run --publish` is not one). */
async function forgeRuns(queues: RunQueues, ref: PullRef): Promise<RunRecord[]> {
  const runs = await queues.runs.pullRuns(ref.forge, ref.repo, ref.pr);
  return runs.filter((run) => run.job.forge !== "local");
}

/** `!testme retry`: the last run's stages again (on the current head, which the caller checks). */
export async function retryStages(queues: RunQueues, ref: PullRef): Promise<Rerun> {
  const [last] = await forgeRuns(queues, ref);
  if (!last)
    return {
      refusal:
        "Nothing to retry: Taster has no earlier run of this pull request. Comment `!testme` to start one.",
    };
  return { stages: last.job.stages, from: last };
}

/** `!testme failed`: the tiers that failed in the last finished run on `head`, plus install. */
export async function failedStages(queues: RunQueues, ref: PullRef, head: string): Promise<Rerun> {
  const onHead = (await forgeRuns(queues, ref)).filter((run) => run.job.sha === head);
  const last = onHead.find((run) => FINISHED.has(run.state) && run.result !== undefined);
  const short = `\`${head.slice(0, 12)}\``;
  if (!last)
    return {
      refusal: `Nothing to re-run: no run on the head of this pull request (${short}) has finished yet. Comment \`!testme\` (or \`!testme retry\`) to test it.`,
    };
  const stages = failedTiers(last.result as Results);
  if (stages.length === 0)
    return {
      refusal: `Nothing to re-run: no tier failed in the last run on ${short} (run \`${last.runId}\`). Comment \`!testme retry\` to run it all again.`,
    };
  return { stages, from: last, failed: tiersThatFailed(last.result as Results) };
}

export const alreadyCancelled = (by: string) =>
  `Nothing to cancel: @${by} cancelled this pull request's run already.`;

export const nothingToCancel = "Nothing to cancel: no run of this pull request is queued or running.";

/**
 * The sticky comment and statuses of a run cancelled before a worker started it (no worker will
 * ever report on it; a running one is reported by its worker once it is torn down).
 */
export async function reportCancelledQueued(
  queues: RunQueues,
  publicUrl: string,
  runId: string,
  by: string,
): Promise<void> {
  const run = await queues.runs.getRun(runId);
  // A run that started is its worker's to report, once it is torn down.
  if (!run || run.job.forge === "local" || run.startedAt !== undefined) return;
  const { job } = run;
  const ctx = reportContext(publicUrl, { ...job, runId });
  const report = renderCancelled(ctx, `Cancelled by @${by} before it started.`, new Redactor());
  await queues.reports.publish(
    { runId, forge: job.forge, repo: job.repo, pr: job.pr, sha: job.sha },
    report,
    "final",
  );
}
