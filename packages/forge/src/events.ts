import { usageError } from "@taster/core";
import { z } from "zod";
import type { ForgeKind } from "./port";

/** A comment on an issue or PR, whichever forge sent it. */
export interface CommentEvent {
  forge: ForgeKind;
  action: string;
  repo: string;
  /** Issue or PR number. */
  pr: number;
  isPullRequest: boolean;
  issueState: string;
  commentId: number;
  /** When the comment was written (the forge's clock, ISO 8601): the code its author saw is the head before it. */
  createdAt: string;
  body: string;
  author: string;
  authorIsBot: boolean;
  /** The repository's clone URL as the payload gives it; the worker uses it only on its configured forge host. */
  cloneUrl?: string;
}

/** A pull request's head as a `pull_request` webhook announces it (opened, pushed to, reopened). */
export interface PushEvent {
  forge: ForgeKind;
  /** The forge's own action name (GitHub `synchronize`, Gitea `synchronized`, …). */
  action: string;
  repo: string;
  pr: number;
  headSha: string;
  /** The pull request's `updated_at` (the forge's clock), if the payload has one. */
  updatedAt?: string;
}

/** The `pull_request` actions after which the head may be new: the only ones Taster records. */
export const HEAD_ACTIONS: Record<ForgeKind, readonly string[]> = {
  github: ["opened", "synchronize", "reopened"],
  gitea: ["opened", "synchronized", "reopened"],
};

const User = z.object({
  login: z.string().optional(),
  username: z.string().optional(),
  type: z.string().optional(),
});
const RepoName = z.object({
  full_name: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
  clone_url: z.string().max(500).optional().catch(undefined),
});
const Payload = z.object({
  action: z.string(),
  issue: z.object({
    number: z.number().int().positive(),
    state: z.string().optional(),
    pull_request: z.unknown().optional(),
  }),
  comment: z.object({
    id: z.number().int().nonnegative(),
    body: z.string().nullable().optional(),
    user: User,
    created_at: z.string().refine((s) => !Number.isNaN(Date.parse(s)), "not a date"),
  }),
  repository: RepoName,
  is_pull: z.boolean().optional(),
});
const PullPayload = z.object({
  action: z.string(),
  number: z.number().int().positive(),
  pull_request: z.object({
    head: z.object({ sha: z.string().regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/i) }),
    updated_at: z.string().nullable().optional(),
  }),
  repository: RepoName,
});

function parseWith<T extends z.ZodType>(schema: T, what: string, payload: unknown): z.infer<T> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join(".") || "(root)").join(", ");
    throw usageError(`not a ${what} payload (bad or missing: ${where})`);
  }
  return parsed.data;
}

/** GitHub `issue_comment`: a PR comment is an issue comment whose issue has `pull_request`. */
export function normalizeGithubComment(payload: unknown): CommentEvent {
  const p = parseWith(Payload, "github issue_comment", payload);
  const login = p.comment.user.login ?? "";
  return {
    forge: "github",
    action: p.action,
    repo: p.repository.full_name,
    pr: p.issue.number,
    isPullRequest: p.issue.pull_request !== undefined && p.issue.pull_request !== null,
    issueState: p.issue.state ?? "open",
    commentId: p.comment.id,
    createdAt: p.comment.created_at,
    body: p.comment.body ?? "",
    author: login,
    authorIsBot: p.comment.user.type === "Bot" || login.endsWith("[bot]"),
    ...(p.repository.clone_url ? { cloneUrl: p.repository.clone_url } : {}),
  };
}

/** Gitea/Forgejo `issue_comment`: `is_pull` (or `issue.pull_request`) marks a PR. */
export function normalizeGiteaComment(payload: unknown): CommentEvent {
  const p = parseWith(Payload, "gitea issue_comment", payload);
  const login = p.comment.user.login ?? p.comment.user.username ?? "";
  return {
    forge: "gitea",
    action: p.action,
    repo: p.repository.full_name,
    pr: p.issue.number,
    isPullRequest:
      p.is_pull === true || (p.issue.pull_request !== undefined && p.issue.pull_request !== null),
    issueState: p.issue.state ?? "open",
    commentId: p.comment.id,
    createdAt: p.comment.created_at,
    body: p.comment.body ?? "",
    author: login,
    authorIsBot: false,
    ...(p.repository.clone_url ? { cloneUrl: p.repository.clone_url } : {}),
  };
}

/** GitHub `pull_request` and Gitea/Forgejo `pull_request` (same shape where Taster looks). */
export function normalizePullRequest(forge: ForgeKind, payload: unknown): PushEvent {
  const p = parseWith(PullPayload, `${forge} pull_request`, payload);
  return {
    forge,
    action: p.action,
    repo: p.repository.full_name,
    pr: p.number,
    headSha: p.pull_request.head.sha.toLowerCase(),
    ...(p.pull_request.updated_at ? { updatedAt: p.pull_request.updated_at } : {}),
  };
}

/** GitHub `check_run` (e.g. `rerequested`: someone pressed "Re-run" on one of Taster's check runs). */
export interface CheckRunEvent {
  action: string;
  repo: string;
  checkRunId: number;
  /** The commit the check run is on. */
  headSha: string;
  /** What Taster set when it created the check run: the run id. */
  externalId: string;
  sender: string;
  senderIsBot: boolean;
}

const CheckRunPayload = z.object({
  action: z.string(),
  check_run: z.object({
    id: z.number().int().positive(),
    head_sha: z.string().regex(/^[0-9a-f]{40}$/i),
    external_id: z.string().nullable().optional(),
  }),
  repository: RepoName,
  sender: User,
});

export function normalizeGithubCheckRun(payload: unknown): CheckRunEvent {
  const p = parseWith(CheckRunPayload, "github check_run", payload);
  const login = p.sender.login ?? "";
  return {
    action: p.action,
    repo: p.repository.full_name,
    checkRunId: p.check_run.id,
    headSha: p.check_run.head_sha.toLowerCase(),
    externalId: p.check_run.external_id ?? "",
    sender: login,
    senderIsBot: p.sender.type === "Bot" || login.endsWith("[bot]"),
  };
}
