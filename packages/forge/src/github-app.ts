/**
 * GitHub as an App: installation tokens from @octokit/auth-app, one installation per repository
 * (looked up once, cached), each token renewed before it expires.
 *
 * auth-app caches an installation token for 59 minutes whatever its `expires_at` says; a token
 * GitHub (or an Enterprise server with another lifetime) lets expire sooner would then be sent
 * expired, every call 401 until restart. So the expiry is checked here and a fresh token asked
 * for (`refresh: true`) once it is within the margin.
 */
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/rest";

export interface GithubAppCredentials {
  appId: string;
  /** The App's private key (PEM). */
  privateKey: string;
}

export interface GithubAppAuthOptions extends GithubAppCredentials {
  baseUrl: string;
  /** Renew a token this long before its expiry. Default 5 minutes. */
  refreshMarginMs?: number;
}

/** Where a call goes: a repository's installation, or an organisation's. */
export type InstallationScope = { owner: string; repo: string } | { org: string };

export class GithubAppAuth {
  private readonly auth: ReturnType<typeof createAppAuth>;
  private readonly plain: Octokit;
  private readonly installations = new Map<string, Promise<number>>();
  private readonly margin: number;

  constructor(options: GithubAppAuthOptions) {
    // Quiet: a 404 lookup is reported by the error thrown below, not by Octokit's console log.
    const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    this.plain = new Octokit({ baseUrl: options.baseUrl, userAgent: "taster-ci", log: quiet });
    this.auth = createAppAuth({
      appId: options.appId,
      privateKey: options.privateKey,
      request: this.plain.request,
    });
    this.margin = options.refreshMarginMs ?? 5 * 60_000;
  }

  /** An installation token for the scope, fresh enough to outlive the margin. */
  async tokenFor(scope: InstallationScope): Promise<string> {
    const installationId = await this.installationOf(scope);
    const cached = await this.auth({ type: "installation", installationId });
    if (Date.parse(cached.expiresAt) - Date.now() > this.margin) return cached.token;
    const fresh = await this.auth({ type: "installation", installationId, refresh: true });
    return fresh.token;
  }

  /** The installation covering the scope; a failed lookup is not cached (the App may be installed later). */
  installationOf(scope: InstallationScope): Promise<number> {
    const key = "org" in scope ? `org:${scope.org}` : `repo:${scope.owner}/${scope.repo}`;
    let found = this.installations.get(key);
    if (!found) {
      found = this.lookup(scope);
      this.installations.set(key, found);
      found.catch(() => this.installations.delete(key));
    }
    return found;
  }

  private async lookup(scope: InstallationScope): Promise<number> {
    const { token } = await this.auth({ type: "app" });
    const headers = { authorization: `bearer ${token}` };
    try {
      const { data } =
        "org" in scope
          ? await this.plain.request("GET /orgs/{org}/installation", { org: scope.org, headers })
          : await this.plain.request("GET /repos/{owner}/{repo}/installation", { ...scope, headers });
      return data.id;
    } catch (error) {
      const where = "org" in scope ? scope.org : `${scope.owner}/${scope.repo}`;
      if ((error as { status?: number }).status === 404)
        throw new Error(
          `the GitHub App is not installed on ${where}: install it there (docs/github-app.md, step 6)`,
        );
      throw error;
    }
  }
}

/**
 * The installation a REST call belongs to: its route parameters, or (pagination follows full
 * `link` URLs without parameters) the URL's `/repos/{owner}/{repo}` or `/orgs/{org}` part.
 */
export function scopeOf(params: Record<string, unknown>): InstallationScope | undefined {
  if (typeof params.owner === "string" && typeof params.repo === "string")
    return { owner: params.owner, repo: params.repo };
  if (typeof params.org === "string") return { org: params.org };
  const path = String(params.url ?? "").split("?")[0] ?? "";
  const repo = /\/repos\/([^/{}]+)\/([^/{}]+)/.exec(path);
  if (repo?.[1] && repo[2]) return { owner: decodeURIComponent(repo[1]), repo: decodeURIComponent(repo[2]) };
  const org = /\/orgs\/([^/{}]+)/.exec(path);
  if (org?.[1]) return { org: decodeURIComponent(org[1]) };
  return undefined;
}

/** The App's own JWT (RS256, minutes-long): what `GET /app` and installation lookups take. */
export async function appJwt(credentials: GithubAppCredentials): Promise<string> {
  const auth = createAppAuth({ appId: credentials.appId, privateKey: credentials.privateKey });
  return (await auth({ type: "app" })).token;
}
