import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { infraError } from "@taster/core";
import Bottleneck from "bottleneck";
import { parseCommand } from "./command";
import { GithubAppAuth, type GithubAppCredentials, scopeOf } from "./github-app";
import { upsertCheckRun } from "./github-checks";
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

const TasterOctokit = Octokit.plugin(throttling, retry);
type Client = InstanceType<typeof TasterOctokit>;

/** How run statuses appear on GitHub: check runs (needs an App) or commit statuses. */
export type GithubReportMode = "checks" | "statuses";

export interface GithubForgeOptions {
  /** A personal (or bot account's) token; exactly one of `token` and `app`. */
  token?: string;
  /** Authenticate as a GitHub App (installation tokens per repository). */
  app?: GithubAppCredentials & { refreshMarginMs?: number };
  /** Default: checks with an App, commit statuses with a token (the Checks API refuses tokens). */
  report?: GithubReportMode;
  /** Default https://api.github.com; tests point it at forge-sim. */
  baseUrl?: string;
  /** Taster's own login: its sticky comment is looked for among its comments only. */
  botLogin?: string;
  trust?: Partial<TrustPolicy>;
  /** Retries after 5xx and rate limits. Default 3. */
  retries?: number;
  /** Multiplier for every retry wait (ms per "second" the API asks for). Default 1000; tests shrink it. */
  retryBaseMs?: number;
  /** Longest rate-limit wait accepted before giving up on a call, in seconds. Default 120. */
  maxRateLimitWaitSec?: number;
  /** GitHub asks for ≥ 1 s between content-creating calls. Default 1000. */
  writeMinTimeMs?: number;
  /** …and ≥ 3 s between calls that notify people (new comments). Default 3000. */
  notificationsMinTimeMs?: number;
  log?: { warn(message: string): void };
}

/** GitHub through Octokit, throttled and retried as GitHub asks integrators to. */
export class GithubForge implements Forge {
  readonly kind = "github" as const;
  /** Acknowledgements, reports and the reconciler. */
  private readonly octokit: Client;
  /** Reads a webhook waits on (head sha, trust): own throttle queue, so a backlog of acks never delays them. */
  private readonly urgent: Client;
  private readonly trust: TrustChecker;
  private readonly stickyLock = new PerKeyLock();
  readonly report: GithubReportMode;

  constructor(private readonly options: GithubForgeOptions) {
    this.report = githubReportMode(options);
    const app = options.app
      ? new GithubAppAuth({ ...options.app, baseUrl: options.baseUrl ?? "https://api.github.com" })
      : undefined;
    const retries = options.retries ?? 3;
    const maxWait = options.maxRateLimitWaitSec ?? 120;
    const onLimit = (
      retryAfter: number,
      request: { method: string; url: string },
      _o: unknown,
      retryCount: number,
    ) => {
      options.log?.warn(
        `GitHub rate limit on ${request.method} ${request.url}; retry ${retryCount + 1} in ${retryAfter}s`,
      );
      return retryCount < retries && retryAfter <= maxWait;
    };
    const client = (id: string) => {
      const octokit = new TasterOctokit({
        ...(options.token ? { auth: options.token } : {}),
        baseUrl: options.baseUrl ?? "https://api.github.com",
        userAgent: "taster-ci",
        log: { debug: () => {}, info: () => {}, warn: (m: string) => options.log?.warn(m), error: () => {} },
        retry: { retries, retryAfterBaseValue: options.retryBaseMs ?? 1000 },
        throttle: {
          id,
          onRateLimit: onLimit,
          onSecondaryRateLimit: onLimit,
          retryAfterBaseValue: options.retryBaseMs ?? 1000,
          write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeMinTimeMs ?? 1000 }),
          notifications: new Bottleneck.Group({
            maxConcurrent: 1,
            minTime: options.notificationsMinTimeMs ?? 3000,
          }),
        },
      });
      if (app) octokit.hook.before("request", (request) => withInstallationToken(app, request));
      return octokit;
    };
    this.octokit = client("taster");
    this.urgent = client("taster-webhook");
    this.trust = new TrustChecker(
      {
        isOrgMember: (org, user) => this.isOrgMember(org, user),
        permission: (repo, user) => this.permission(repo, user),
      },
      { ...DEFAULT_TRUST, ...options.trust },
    );
  }

  async getPullRequest(repo: string, pr: number): Promise<PullRequestInfo> {
    const { data } = await this.call(`get PR ${repo}#${pr}`, () =>
      this.urgent.pulls.get({ ...split(repo), pull_number: pr }),
    );
    return {
      number: data.number,
      state: data.state === "open" ? "open" : "closed",
      headSha: data.head.sha,
      headRef: data.head.ref,
    };
  }

  async react(repo: string, commentId: number, reaction: Reaction): Promise<void> {
    await this.call(`react on comment ${commentId}`, () =>
      this.octokit.reactions.createForIssueComment({
        ...split(repo),
        comment_id: commentId,
        content: reaction,
      }),
    );
  }

  async postComment(repo: string, pr: number, body: string): Promise<number> {
    const { data } = await this.call(`comment on ${repo}#${pr}`, () =>
      this.octokit.issues.createComment({ ...split(repo), issue_number: pr, body: fitComment(body) }),
    );
    return data.id;
  }

  upsertStickyComment(repo: string, pr: number, body: string): Promise<number> {
    return this.stickyLock.run(`${repo}#${pr}`, async () => {
      const existing = await this.findSticky(repo, pr);
      if (existing !== undefined) {
        await this.call(`edit status comment on ${repo}#${pr}`, () =>
          this.octokit.issues.updateComment({ ...split(repo), comment_id: existing, body: stickyBody(body) }),
        );
        return existing;
      }
      const { data } = await this.call(`status comment on ${repo}#${pr}`, () =>
        this.octokit.issues.createComment({ ...split(repo), issue_number: pr, body: stickyBody(body) }),
      );
      return data.id;
    });
  }

  async setCommitStatus(repo: string, sha: string, status: CommitStatus): Promise<void> {
    await this.call(`commit status on ${sha.slice(0, 12)}`, () =>
      this.octokit.repos.createCommitStatus({
        ...split(repo),
        sha,
        state: status.state,
        context: status.context,
        description: status.description.slice(0, 140),
        ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
      }),
    );
  }

  async publishStatus(ref: StatusRef, status: CommitStatus, previous?: string): Promise<string | undefined> {
    if (this.report === "statuses") return postAsCommitStatus(this, ref, status);
    return this.call(`check run ${status.context} on ${ref.sha.slice(0, 12)}`, () =>
      upsertCheckRun(this.octokit, ref, status, previous),
    );
  }

  isTrusted(user: string, repo: string): Promise<TrustDecision> {
    return this.trust.isTrusted(user, repo);
  }

  async listRecentCommands(repo: string, since: Date): Promise<ForgeComment[]> {
    const open = await this.call(`list open PRs of ${repo}`, () =>
      this.octokit.paginate(this.octokit.pulls.list, { ...split(repo), state: "open", per_page: 100 }),
    );
    const openNumbers = new Set(open.map((p) => p.number));
    const comments = await this.call(`list recent comments of ${repo}`, () =>
      this.octokit.paginate(this.octokit.issues.listCommentsForRepo, {
        ...split(repo),
        since: since.toISOString(),
        sort: "updated",
        direction: "asc",
        per_page: 100,
      }),
    );
    return comments.flatMap((c) => {
      const pr = Number(/\/issues\/(\d+)$/.exec(c.issue_url)?.[1]);
      if (!openNumbers.has(pr) || !parseCommand(c.body)) return [];
      return [
        {
          id: c.id,
          pr,
          body: c.body ?? "",
          author: c.user?.login ?? "",
          createdAt: c.created_at,
          updatedAt: c.updated_at,
        },
      ];
    });
  }

  private async findSticky(repo: string, pr: number): Promise<number | undefined> {
    const comments = await this.call(`list comments on ${repo}#${pr}`, () =>
      this.octokit.paginate(this.octokit.issues.listComments, {
        ...split(repo),
        issue_number: pr,
        per_page: 100,
      }),
    );
    const bot = this.options.botLogin;
    return comments.find((c) => isSticky(c.body) && (!bot || c.user?.login === bot))?.id;
  }

  private async isOrgMember(org: string, user: string): Promise<boolean> {
    try {
      const response = await this.urgent.orgs.checkMembershipForUser({ org, username: user });
      return (response.status as number) === 204;
    } catch (error) {
      // 404 = not a member (or org not visible), 302 = we may not see members: both mean "not via org".
      if ([302, 404].includes((error as { status?: number }).status ?? 0)) return false;
      throw forgeError(`check ${user}'s membership of ${org}`, error);
    }
  }

  private async permission(repo: string, user: string): Promise<string> {
    try {
      const { data } = await this.urgent.repos.getCollaboratorPermissionLevel({
        ...split(repo),
        username: user,
      });
      return data.role_name ?? data.permission;
    } catch (error) {
      if ((error as { status?: number }).status === 404) return "none";
      throw forgeError(`read ${user}'s permission on ${repo}`, error);
    }
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw forgeError(what, error);
    }
  }
}

/** checks with an App, statuses with a token; never both credentials. */
export function githubReportMode(
  options: Pick<GithubForgeOptions, "token" | "app" | "report">,
): GithubReportMode {
  if (options.token && options.app)
    throw new Error(
      "GitHub: both a token (TASTER_GITHUB_TOKEN) and an App (TASTER_GITHUB_APP_ID) are configured: keep one",
    );
  const mode = options.report ?? (options.app ? "checks" : "statuses");
  if (mode === "checks" && !options.app)
    throw new Error(
      "GitHub: check runs need a GitHub App (the Checks API refuses personal tokens): set TASTER_GITHUB_APP_ID, or TASTER_GITHUB_REPORT=statuses",
    );
  return mode;
}

/** Every call as the App's installation on the repository (or organisation) it is about. */
async function withInstallationToken(app: GithubAppAuth, request: Record<string, unknown>): Promise<void> {
  const scope = scopeOf(request);
  if (!scope)
    throw new Error(`GitHub App: no installation for ${String(request.url)} (no owner/repo or org)`);
  const token = await app.tokenFor(scope);
  request.headers = { ...(request.headers as object), authorization: `token ${token}` };
}

function split(repo: string): { owner: string; repo: string } {
  const [owner = "", name = ""] = repo.split("/");
  return { owner, repo: name };
}

function forgeError(what: string, error: unknown) {
  const status = (error as { status?: number }).status;
  const message = error instanceof Error ? error.message : String(error);
  return Object.assign(
    infraError(`GitHub: could not ${what}${status ? ` (HTTP ${status})` : ""}: ${message}`, error),
    {
      status,
    },
  );
}
