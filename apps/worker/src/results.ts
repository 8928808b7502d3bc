import { resultsWithoutDeploy } from "@taster/contracts";
import { stackNameFor } from "@taster/core";
import type { Results } from "@taster/harness";
import type { RunJob } from "@taster/queue";
import type { Job } from "bullmq";

/** The run a BullMQ job carries; the job id is the run id (the bridge sets it so). */
export const jobOf = (bullJob: Job<RunJob>): RunJob => ({
  ...bullJob.data,
  runId: bullJob.id ?? bullJob.data.runId,
});

/** The job's stack, named exactly as the harness (given `repo`) and the janitor name it. */
export function stackOf(job: Pick<RunJob, "repo" | "pr" | "sha">): string {
  return stackNameFor({ repo: job.repo, pr: job.pr, sha: job.sha });
}

/** A run that did not get to run (it threw, it was abandoned) still ends with a verdict a maintainer can read. */
export function errorResults(job: RunJob, source: string, message: string): Results {
  const timings = { hookMs: 0, opMs: 0, assertMs: 0, totalMs: 0 };
  return resultsWithoutDeploy(
    {
      recipe: job.repo.split("/")[1] ?? job.repo,
      repo: source,
      pr: job.pr,
      sha: job.sha,
      level: 0,
      outcome: "error",
      error: message,
      versions: { base: null, head: "", baseReason: "" },
    },
    { status: "skip", reason: `not run: ${message}`, tests: [], timings },
  );
}

/**
 * A run that left residue after its verdict: the verdict stands in the report's error, but the run
 * ends as an infrastructure error — a maintainer sees it, and an operator has something to clean.
 * Results without residue (or already an error) are returned as they are.
 */
export function residueAsError(results: Results): Results {
  if (results.residue.length === 0 || results.outcome === "error") return results;
  const verdict = `${results.outcome === "pass" ? "passed" : "failed"}, level L${results.level}`;
  return {
    ...results,
    outcome: "error",
    errorKind: "infra",
    error: `the tests ${verdict}, but teardown left residue: ${results.residue.join(", ")}`,
  };
}
