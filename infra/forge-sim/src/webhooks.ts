import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { idOf } from "./github-api";

const require = createRequire(import.meta.url);

interface ExampleGroup {
  name: string;
  examples: Array<Record<string, unknown> & { action?: string }>;
}

let examples: ExampleGroup[] | undefined;

/** GitHub's own example payload (from @octokit/webhooks-examples) for an event and action. */
export function githubExample(event: string, action: string): Record<string, unknown> {
  examples ??= JSON.parse(
    readFileSync(require.resolve("@octokit/webhooks-examples/api.github.com/index.json"), "utf8"),
  ) as ExampleGroup[];
  const found = examples.find((group) => group.name === event)?.examples.find((e) => e.action === action);
  if (!found) throw new Error(`no @octokit/webhooks-examples payload for ${event}.${action}`);
  return structuredClone(found);
}

export interface CommentPayloadInput {
  repo: string;
  pr: number;
  body: string;
  user: string;
  commentId: number;
  action?: "created" | "edited" | "deleted";
  /** false = a comment on a plain issue, not a pull request. */
  onPullRequest?: boolean;
  prState?: "open" | "closed";
  /** When the comment was written (ISO 8601); default now. Taster refuses comments older than its limit. */
  createdAt?: string;
}

/**
 * GitHub's example `issue_comment` payload, moved onto the given repo/PR/user with the given body.
 * GitHub marks an issue that is a pull request with `issue.pull_request`.
 */
export function githubCommentPayload(input: CommentPayloadInput): Record<string, unknown> {
  const payload = githubExample("issue_comment", input.action ?? "created") as {
    issue: Record<string, unknown>;
    comment: Record<string, unknown>;
    repository: Record<string, unknown>;
    sender: Record<string, unknown>;
  };
  const api = `https://api.github.com/repos/${input.repo}`;
  const user = { ...(payload.comment.user as object), login: input.user, id: idOf(input.user), type: "User" };
  onRepository(payload.repository, input.repo);
  Object.assign(payload.issue, {
    number: input.pr,
    state: input.prState ?? "open",
    url: `${api}/issues/${input.pr}`,
    pull_request:
      input.onPullRequest === false
        ? undefined
        : {
            url: `${api}/pulls/${input.pr}`,
            html_url: `https://github.com/${input.repo}/pull/${input.pr}`,
            diff_url: `https://github.com/${input.repo}/pull/${input.pr}.diff`,
            patch_url: `https://github.com/${input.repo}/pull/${input.pr}.patch`,
          },
  });
  const createdAt = input.createdAt ?? new Date().toISOString();
  Object.assign(payload.comment, {
    id: input.commentId,
    body: input.body,
    created_at: createdAt,
    updated_at: createdAt,
    user,
    issue_url: `${api}/issues/${input.pr}`,
    html_url: `https://github.com/${input.repo}/pull/${input.pr}#issuecomment-${input.commentId}`,
  });
  payload.sender = user;
  return payload;
}

/** The payload Gitea/Forgejo send for a comment on a pull request (`issue_comment`, `is_pull`). */
export function giteaCommentPayload(input: CommentPayloadInput): Record<string, unknown> {
  const [owner = "", name = ""] = input.repo.split("/");
  const user = { id: idOf(input.user), login: input.user, username: input.user };
  const onPull = input.onPullRequest !== false;
  return {
    action: input.action ?? "created",
    issue: {
      id: input.pr + 10_000,
      number: input.pr,
      title: `PR ${input.pr}`,
      state: input.prState ?? "open",
      user,
      pull_request: onPull ? { merged: false, merged_at: null } : null,
    },
    comment: {
      id: input.commentId,
      body: input.body,
      user,
      html_url: `https://gitea.test/${input.repo}/pulls/${input.pr}#issuecomment-${input.commentId}`,
      created_at: input.createdAt ?? new Date().toISOString(),
      updated_at: input.createdAt ?? new Date().toISOString(),
    },
    repository: {
      id: idOf(input.repo),
      name,
      full_name: input.repo,
      owner: { id: idOf(owner), login: owner, username: owner },
    },
    sender: user,
    is_pull: onPull,
  };
}

export interface PullPayloadInput {
  repo: string;
  pr: number;
  headSha: string;
  /** GitHub: opened | synchronize | reopened (Gitea says `synchronized`; the Gitea builder maps it). */
  action: "opened" | "synchronize" | "reopened";
  headRef?: string;
  /** The pull request's `updated_at`; default now. */
  updatedAt?: string;
}

/** GitHub's example `pull_request` payload for the action, moved onto the given repo/PR/head. */
export function githubPullRequestPayload(input: PullPayloadInput): Record<string, unknown> {
  const payload = githubExample("pull_request", input.action) as {
    number: number;
    pull_request: Record<string, unknown> & { head: Record<string, unknown> };
    repository: Record<string, unknown>;
  };
  onRepository(payload.repository, input.repo);
  payload.number = input.pr;
  Object.assign(payload.pull_request, {
    number: input.pr,
    state: "open",
    updated_at: input.updatedAt ?? new Date().toISOString(),
    html_url: `https://github.com/${input.repo}/pull/${input.pr}`,
  });
  Object.assign(payload.pull_request.head, { sha: input.headSha, ref: input.headRef ?? `pr-${input.pr}` });
  return payload;
}

/** The payload Gitea/Forgejo send with `X-Gitea-Event: pull_request` (opened, synchronized, reopened). */
export function giteaPullRequestPayload(input: PullPayloadInput): Record<string, unknown> {
  const [owner = "", name = ""] = input.repo.split("/");
  const user = { id: idOf(owner), login: owner, username: owner };
  const repository = {
    id: idOf(input.repo),
    name,
    full_name: input.repo,
    owner: user,
  };
  const updatedAt = input.updatedAt ?? new Date().toISOString();
  return {
    action: input.action === "synchronize" ? "synchronized" : input.action,
    number: input.pr,
    pull_request: {
      id: input.pr + 20_000,
      number: input.pr,
      state: "open",
      title: `PR ${input.pr}`,
      html_url: `https://gitea.test/${input.repo}/pulls/${input.pr}`,
      head: {
        label: input.headRef ?? `pr-${input.pr}`,
        ref: input.headRef ?? `pr-${input.pr}`,
        sha: input.headSha,
        repo: repository,
      },
      base: { label: "main", ref: "main", repo: repository },
      merged: false,
      created_at: updatedAt,
      updated_at: updatedAt,
    },
    repository,
    sender: user,
    commit_id: "",
  };
}

export const signGithub = (secret: string, body: string) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
export const signGitea = (secret: string, body: string) =>
  createHmac("sha256", secret).update(body).digest("hex");

export interface DeliveryResult {
  status: number;
  body: string;
}

const endpoint = (bridgeUrl: string, path: string) =>
  bridgeUrl.endsWith(path) ? bridgeUrl : `${bridgeUrl.replace(/\/$/, "")}${path}`;

/** POSTs a raw JSON body to the bridge with the forge's headers (signature included). */
async function deliver(url: string, body: string, headers: Record<string, string>): Promise<DeliveryResult> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, body: await response.text() };
}

const rawBody = (payload: unknown) => (typeof payload === "string" ? payload : JSON.stringify(payload));

/** Signs and POSTs a webhook exactly as GitHub does (X-Hub-Signature-256 over the raw body). */
export function sendGithubWebhook(
  bridgeUrl: string,
  secret: string,
  event: string,
  payload: unknown,
  deliveryId: string,
): Promise<DeliveryResult> {
  const body = rawBody(payload);
  return deliver(endpoint(bridgeUrl, "/webhooks/github"), body, {
    "user-agent": "GitHub-Hookshot/forge-sim",
    "x-github-event": event,
    "x-github-delivery": deliveryId,
    "x-hub-signature-256": signGithub(secret, body),
  });
}

/** Signs and POSTs a webhook as Gitea/Forgejo do (hex HMAC-SHA256 in X-Gitea-Signature). */
export function sendGiteaWebhook(
  bridgeUrl: string,
  secret: string,
  event: string,
  payload: unknown,
  deliveryId: string,
): Promise<DeliveryResult> {
  const body = rawBody(payload);
  return deliver(endpoint(bridgeUrl, "/webhooks/gitea"), body, {
    "user-agent": "Go-http-client/1.1",
    "x-gitea-event": event,
    "x-gitea-event-type": giteaEventType(event, body),
    "x-gitea-delivery": deliveryId,
    "x-gitea-signature": signGitea(secret, body),
  });
}

/** Gitea's finer-grained X-Gitea-Event-Type: a push to a PR is `pull_request_sync`. */
function giteaEventType(event: string, body: string): string {
  if (event === "issue_comment") return "pull_request_comment";
  if (event === "pull_request" && body.includes('"action":"synchronized"')) return "pull_request_sync";
  return event;
}

/**
 * GitHub's `check_run` `rerequested` (someone pressed "Re-run" on a check run), from the real
 * example payload with the check run, repository, App and sender filled in.
 */
export function githubCheckRunPayload(input: {
  repo: string;
  checkRun: {
    id: number;
    headSha: string;
    name: string;
    externalId?: string;
    status?: string;
    conclusion?: string;
  };
  user: string;
  appId: number;
  action?: string;
}): Record<string, unknown> {
  const payload = githubExample("check_run", input.action ?? "rerequested") as {
    check_run: Record<string, unknown>;
    repository: Record<string, unknown>;
    sender: Record<string, unknown>;
  };
  onRepository(payload.repository, input.repo);
  Object.assign(payload.check_run, {
    id: input.checkRun.id,
    head_sha: input.checkRun.headSha,
    name: input.checkRun.name,
    external_id: input.checkRun.externalId ?? "",
    status: input.checkRun.status ?? "completed",
    conclusion: input.checkRun.conclusion ?? null,
    app: { ...(payload.check_run.app as object), id: input.appId },
  });
  payload.sender = { ...payload.sender, login: input.user, id: idOf(input.user), type: "User" };
  return payload;
}

/** Moves a GitHub example payload's `repository` onto `repo` (owner/name), keeping its other fields. */
function onRepository(repository: Record<string, unknown>, repo: string): void {
  const [owner = "", name = ""] = repo.split("/");
  Object.assign(repository, {
    name,
    full_name: repo,
    owner: { ...(repository.owner as object), login: owner },
  });
}
