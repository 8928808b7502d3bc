import { setTimeout as sleep } from "node:timers/promises";
import { infraError, retry } from "@taster/core";
import { parseCommand } from "./command";
import {
  type CommitStatus,
  type Forge,
  type ForgeComment,
  type PullRequestInfo,
  postAsCommitStatus,
  type Reaction,
  type StatusRef,
  type TrustDecision,
} from "./port";
import { fitComment, isSticky, PerKeyLock, stickyBody } from "./sticky";
import { DEFAULT_TRUST, TrustChecker, type TrustPolicy } from "./trust";

export interface GiteaForgeOptions {
  /** The instance, e.g. https://git.coopcloud.tech (the API is under /api/v1). */
  url: string;
  token: string;
  botLogin?: string;
  trust?: Partial<TrustPolicy>;
  /** Retries after 5xx/429. Default 3. */
  retries?: number;
  /** Ms per second of wait (Retry-After, or 0.5 s doubling per attempt). Default 1000; tests shrink it. */
  retryBaseMs?: number;
}

interface GiteaComment {
  id: number;
  body: string;
  user?: { login?: string; username?: string };
  created_at: string;
  updated_at: string;
  issue_url?: string;
  pull_request_url?: string;
}

/** Gitea / Forgejo over their REST API (v1). */
export class GiteaForge implements Forge {
  readonly kind = "gitea" as const;
  private readonly api: string;
  private readonly trust: TrustChecker;
  private readonly stickyLock = new PerKeyLock();

  constructor(private readonly options: GiteaForgeOptions) {
    const base = options.url.replace(/\/+$/, "");
    this.api = base.endsWith("/api/v1") ? base : `${base}/api/v1`;
    this.trust = new TrustChecker(
      {
        isOrgMember: async (org, user) => (await this.status("GET", `/orgs/${org}/members/${user}`)) === 204,
        permission: async (repo, user) => {
          const found = await this.optional<{ permission: string }>(
            `/repos/${repo}/collaborators/${user}/permission`,
          );
          return found?.permission ?? "none";
        },
      },
      { ...DEFAULT_TRUST, ...options.trust },
    );
  }

  async getPullRequest(repo: string, pr: number): Promise<PullRequestInfo> {
    const data = await this.request<{ number: number; state: string; head: { sha: string; ref: string } }>(
      "GET",
      `/repos/${repo}/pulls/${pr}`,
    );
    return {
      number: data.number,
      state: data.state === "open" ? "open" : "closed",
      headSha: data.head.sha,
      headRef: data.head.ref,
    };
  }

  async react(repo: string, commentId: number, reaction: Reaction): Promise<void> {
    // Gitea names reactions like GitHub does ("eyes", "+1", …).
    await this.request("POST", `/repos/${repo}/issues/comments/${commentId}/reactions`, {
      content: reaction,
    });
  }

  async postComment(repo: string, pr: number, body: string): Promise<number> {
    const created = await this.request<{ id: number }>("POST", `/repos/${repo}/issues/${pr}/comments`, {
      body: fitComment(body),
    });
    return created.id;
  }

  upsertStickyComment(repo: string, pr: number, body: string): Promise<number> {
    return this.stickyLock.run(`${repo}#${pr}`, async () => {
      const comments = await this.listAll<GiteaComment>(`/repos/${repo}/issues/${pr}/comments`);
      const bot = this.options.botLogin;
      const existing = comments.find((c) => isSticky(c.body) && (!bot || loginOf(c) === bot));
      if (existing) {
        await this.request("PATCH", `/repos/${repo}/issues/comments/${existing.id}`, {
          body: stickyBody(body),
        });
        return existing.id;
      }
      const created = await this.request<{ id: number }>("POST", `/repos/${repo}/issues/${pr}/comments`, {
        body: stickyBody(body),
      });
      return created.id;
    });
  }

  async setCommitStatus(repo: string, sha: string, status: CommitStatus): Promise<void> {
    await this.request("POST", `/repos/${repo}/statuses/${sha}`, {
      state: status.state,
      context: status.context,
      description: status.description.slice(0, 140),
      ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
    });
  }

  /** Gitea reports with commit statuses (no check runs). */
  publishStatus(ref: StatusRef, status: CommitStatus): Promise<undefined> {
    return postAsCommitStatus(this, ref, status);
  }

  isTrusted(user: string, repo: string): Promise<TrustDecision> {
    return this.trust.isTrusted(user, repo);
  }

  async listRecentCommands(repo: string, since: Date): Promise<ForgeComment[]> {
    const open = await this.listAll<{ number: number }>(`/repos/${repo}/pulls?state=open`);
    const openNumbers = new Set(open.map((p) => p.number));
    const comments = await this.listAll<GiteaComment>(
      `/repos/${repo}/issues/comments?since=${encodeURIComponent(since.toISOString())}`,
    );
    return comments.flatMap((c) => {
      const pr = Number(/\/(?:issues|pulls)\/(\d+)$/.exec(c.pull_request_url || c.issue_url || "")?.[1]);
      if (!openNumbers.has(pr) || !parseCommand(c.body)) return [];
      return [
        { id: c.id, pr, body: c.body, author: loginOf(c), createdAt: c.created_at, updatedAt: c.updated_at },
      ];
    });
  }

  private async listAll<T>(path: string, maxPages = 20): Promise<T[]> {
    const all: T[] = [];
    const sep = path.includes("?") ? "&" : "?";
    for (let page = 1; page <= maxPages; page++) {
      const batch = await this.request<T[]>("GET", `${path}${sep}limit=50&page=${page}`);
      all.push(...batch);
      if (batch.length < 50) break;
    }
    return all;
  }

  private async optional<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>("GET", path);
    } catch (error) {
      if ((error as { status?: number }).status === 404) return undefined;
      throw error;
    }
  }

  private async status(method: string, path: string): Promise<number> {
    const response = await this.fetchWithRetry(method, path);
    await response.body?.cancel();
    return response.status;
  }

  private async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetchWithRetry(method, path, body);
    const text = await response.text();
    if (!response.ok) {
      throw Object.assign(
        infraError(
          `Gitea: ${method} ${path.split("?")[0]} failed (HTTP ${response.status}): ${text.slice(0, 200)}`,
        ),
        { status: response.status },
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * One call, retried after a network error, a 5xx or a 429 (honouring Retry-After) with the shared
   * capped backoff; after the last try a 5xx/429 response is returned for `request` to report.
   */
  private async fetchWithRetry(method: string, path: string, body?: unknown): Promise<Response> {
    const retries = this.options.retries ?? 3;
    const base = this.options.retryBaseMs ?? 1000;
    let tries = 0;
    const what = `${method} ${path.split("?")[0]}`;
    return retry(
      async () => {
        tries++;
        const response = await this.fetchOnce(method, path, body).catch((error) => {
          throw infraError(`Gitea: ${what} failed: ${String(error)}`, error);
        });
        if (!(response.status >= 500 || response.status === 429) || tries > retries) return response;
        const retryAfter = Number(response.headers.get("retry-after"));
        await response.body?.cancel();
        // The server said how long to wait: wait that, then let the backoff add its own short delay.
        if (retryAfter > 0) await sleep(retryAfter * base);
        throw infraError(`Gitea: ${what} answered HTTP ${response.status}`);
      },
      { attempts: retries + 1, minMs: 0.5 * base, maxMs: 30 * base },
    );
  }

  private fetchOnce(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.api}${path}`, {
      method,
      headers: {
        authorization: `token ${this.options.token}`,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  }
}

const loginOf = (c: GiteaComment) => c.user?.login ?? c.user?.username ?? "";
