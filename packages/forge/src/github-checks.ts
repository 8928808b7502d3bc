/**
 * A commit status as a GitHub check run (the Checks API, which only an App may write): one check
 * run per context, created once and then updated in place by its id, with the run id as its
 * `external_id` so GitHub's "Re-run" button (a `check_run` `rerequested` webhook) finds the run.
 */
import type { Octokit } from "@octokit/rest";
import type { CommitStatus } from "./port";

export interface CheckRef {
  repo: string;
  sha: string;
  runId: string;
}

type Conclusion = "success" | "failure" | "neutral" | "cancelled";

const CONCLUSION: Record<Exclude<CommitStatus["state"], "pending">, Conclusion> = {
  success: "success",
  failure: "failure",
  // Taster's own trouble says nothing about the recipe: neither green nor red.
  error: "neutral",
};

/** The check run's fields for one status: in progress while pending, completed with a conclusion after. */
export function checkRunFields(status: CommitStatus) {
  const output = {
    title: (status.output?.title ?? status.description).slice(0, 255),
    summary: status.output?.summary || status.description,
    ...(status.output?.text ? { text: status.output.text } : {}),
  };
  const common = {
    name: status.context,
    output,
    ...(status.targetUrl ? { details_url: status.targetUrl } : {}),
  };
  if (status.state === "pending") return { ...common, status: "in_progress" as const };
  return {
    ...common,
    status: "completed" as const,
    conclusion: status.output?.conclusion ?? CONCLUSION[status.state],
    completed_at: new Date().toISOString(),
  };
}

/** Creates the context's check run, or updates `previous` (its id) in place; returns the id. */
export async function upsertCheckRun(
  client: Octokit,
  ref: CheckRef,
  status: CommitStatus,
  previous: string | undefined,
): Promise<string | undefined> {
  const [owner = "", repo = ""] = ref.repo.split("/");
  if (status.checkRunOnly === "close" && !previous) return undefined;
  const fields = checkRunFields(status);
  if (previous) {
    await client.checks.update({ owner, repo, check_run_id: Number(previous), ...fields });
    return previous;
  }
  const { data } = await client.checks.create({
    owner,
    repo,
    head_sha: ref.sha,
    external_id: ref.runId,
    ...fields,
  });
  return String(data.id);
}
