import type { CommitStatus } from "@taster/contracts";

/** What Taster needs from a forge (GitHub, Gitea/Forgejo), whatever its API looks like. */

export type ForgeKind = "github" | "gitea";

export interface PullRequestInfo {
  number: number;
  state: "open" | "closed";
  /** The exact commit to test; never a branch name. */
  headSha: string;
  headRef: string;
}

export interface ForgeComment {
  id: number;
  pr: number;
  body: string;
  author: string;
  createdAt: string;
  updatedAt: string;
}

export type Reaction = "eyes" | "+1" | "-1" | "rocket" | "confused" | "hooray";

export type { CommitState, CommitStatus } from "@taster/contracts";

export interface TrustDecision {
  trusted: boolean;
  /** Why, in words for logs and replies: "org member", "write permission", "triggerers list", … */
  reason: string;
}

/** The commit a run's statuses are shown on, and the run they belong to. */
export interface StatusRef {
  repo: string;
  sha: string;
  runId: string;
}

export interface Forge {
  readonly kind: ForgeKind;
  getPullRequest(repo: string, pr: number): Promise<PullRequestInfo>;
  react(repo: string, commentId: number, reaction: Reaction): Promise<void>;
  /** Posts a new comment; returns its id. */
  postComment(repo: string, pr: number, body: string): Promise<number>;
  /** Creates or edits in place Taster's one status comment on the PR (found by a hidden marker). */
  upsertStickyComment(repo: string, pr: number, body: string): Promise<number>;
  setCommitStatus(repo: string, sha: string, status: CommitStatus): Promise<void>;
  /**
   * Shows one of a run's statuses the way this forge reports (a commit status, or a GitHub check
   * run). `previous` is what this returned for the same context before (a check run's id), so the
   * same line is updated in place; returns what to pass next time.
   */
  publishStatus(ref: StatusRef, status: CommitStatus, previous?: string): Promise<string | undefined>;
  isTrusted(user: string, repo: string): Promise<TrustDecision>;
  /** Comments updated since `since` on the repo's open PRs that hold a `!testme` command. */
  listRecentCommands(repo: string, since: Date): Promise<ForgeComment[]>;
}

/**
 * A forge that reports with commit statuses: each status posted as one; the lines that exist only
 * as check runs (opened or closed per tier) have no commit-status form. Nothing to remember.
 */
export async function postAsCommitStatus(
  forge: Pick<Forge, "setCommitStatus">,
  ref: StatusRef,
  status: CommitStatus,
): Promise<undefined> {
  if (!status.checkRunOnly) await forge.setCommitStatus(ref.repo, ref.sha, status);
  return undefined;
}
