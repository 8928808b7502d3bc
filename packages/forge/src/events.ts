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
  body: string;
  author: string;
  authorIsBot: boolean;
}

const User = z.object({
  login: z.string().optional(),
  username: z.string().optional(),
  type: z.string().optional(),
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
  }),
  repository: z.object({ full_name: z.string().regex(/^[\w.-]+\/[\w.-]+$/) }),
  is_pull: z.boolean().optional(),
});

function parsePayload(forge: ForgeKind, payload: unknown) {
  const parsed = Payload.safeParse(payload);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join(".") || "(root)").join(", ");
    throw usageError(`not a ${forge} issue_comment payload (bad or missing: ${where})`);
  }
  return parsed.data;
}

/** GitHub `issue_comment`: a PR comment is an issue comment whose issue has `pull_request`. */
export function normalizeGithubComment(payload: unknown): CommentEvent {
  const p = parsePayload("github", payload);
  const login = p.comment.user.login ?? "";
  return {
    forge: "github",
    action: p.action,
    repo: p.repository.full_name,
    pr: p.issue.number,
    isPullRequest: p.issue.pull_request !== undefined && p.issue.pull_request !== null,
    issueState: p.issue.state ?? "open",
    commentId: p.comment.id,
    body: p.comment.body ?? "",
    author: login,
    authorIsBot: p.comment.user.type === "Bot" || login.endsWith("[bot]"),
  };
}

/** Gitea/Forgejo `issue_comment`: `is_pull` (or `issue.pull_request`) marks a PR. */
export function normalizeGiteaComment(payload: unknown): CommentEvent {
  const p = parsePayload("gitea", payload);
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
    body: p.comment.body ?? "",
    author: login,
    authorIsBot: false,
  };
}
