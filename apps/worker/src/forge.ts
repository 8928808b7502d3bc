import { Octokit } from "@octokit/rest";
import { type CommitStatus, STICKY_MARKER } from "./report";

/**
 * The two forge writes the worker makes. Kept this narrow on purpose so the bridge's full Forge
 * port (packages/forge) can be passed in as soon as it exists; `githubReportForge` is the
 * worker's own GitHub implementation until then.
 */
export interface ReportForge {
  /**
   * Edits in place the one comment on the PR that carries STICKY_MARKER, creating it when missing
   * unless `createIfMissing` is false (progress waits for the bridge's own "queued" comment, so the
   * two processes never both create one).
   */
  upsertStickyComment(
    repo: string,
    pr: number,
    body: string,
    opts?: { createIfMissing?: boolean },
  ): Promise<unknown>;
  setCommitStatus(repo: string, sha: string, status: CommitStatus): Promise<void>;
}

export interface GithubReportForgeOptions {
  token: string;
  /** API base URL (default https://api.github.com); tests point it at the forge simulator. */
  baseUrl?: string;
  /** The bot account the token belongs to; only its comments are taken as the sticky one. */
  botLogin?: string;
}

/**
 * GitHub over Octokit, with Octokit's own retries off: the durable outbox (see outbox.ts) owns
 * retrying, with backoff that outlives a process restart.
 */
export function githubReportForge(options: GithubReportForgeOptions): ReportForge {
  const octokit = new Octokit({
    auth: options.token,
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    request: { retries: 0 },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const split = (repo: string) => {
    const [owner = "", name = ""] = repo.split("/");
    return { owner, repo: name };
  };
  const isOurs = (c: { body?: string | null; user?: { login?: string } | null }) =>
    Boolean(c.body?.includes(STICKY_MARKER)) && (!options.botLogin || c.user?.login === options.botLogin);

  return {
    async upsertStickyComment(repo, pr, body, opts = {}) {
      const where = split(repo);
      const comments = await octokit.paginate(octokit.rest.issues.listComments, {
        ...where,
        issue_number: pr,
        per_page: 100,
      });
      const sticky = comments.find(isOurs);
      if (sticky) {
        if (sticky.body === body) return;
        await octokit.rest.issues.updateComment({ ...where, comment_id: sticky.id, body });
      } else if (opts.createIfMissing !== false) {
        await octokit.rest.issues.createComment({ ...where, issue_number: pr, body });
      }
    },
    async setCommitStatus(repo, sha, status) {
      await octokit.rest.repos.createCommitStatus({
        ...split(repo),
        sha,
        state: status.state,
        context: status.context,
        description: status.description,
        ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
      });
    },
  };
}
