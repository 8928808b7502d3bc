import type { TasterConfig } from "@taster/config";
import { errorMessage } from "@taster/core";
import { appJwt, type GithubAppCredentials } from "@taster/forge";
import type { Finding } from "./finding";

/**
 * What the bot does on a forge (read PRs, comment, react, set commit statuses, check org
 * membership) and so what its token must allow. GitHub lists a classic token's scopes in
 * X-OAuth-Scopes; Gitea does not expose a token's scopes, so they are named in the report instead.
 */
const GITEA_SCOPES = "read:user, read:repository, write:repository, write:issue, read:organization";

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/** GET with the token; `unreachable` carries the network error's cause (refused, DNS, timeout). */
async function get(url: string, authorization: string): Promise<Answer | { unreachable: string }> {
  try {
    const response = await fetch(url, {
      headers: { authorization, accept: "application/json" },
      signal: AbortSignal.timeout(5_000),
    });
    return { status: response.status, headers: response.headers, body: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return { unreachable: cause ? `${errorMessage(error)} (${errorMessage(cause)})` : errorMessage(error) };
  }
}

const messageOf = (body: string): string => {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    return typeof message === "string" ? `: ${message}` : "";
  } catch {
    return "";
  }
};

/** One field of a JSON answer, as text ("?" when the answer is not JSON or lacks it). */
const fieldOf = (body: string, key: string): string => {
  try {
    return String((JSON.parse(body) as Record<string, unknown>)[key] ?? "?");
  } catch {
    return "?";
  }
};

type Forges = TasterConfig["forge"];

function webhookSecret(forge: "github" | "gitea", secrets: string[]): Finding {
  const name = `TASTER_${forge.toUpperCase()}_WEBHOOK_SECRET`;
  return {
    check: `${forge} webhook`,
    ok: secrets.length > 0,
    detail:
      secrets.length > 0 ? `${name} is set` : `${name} is not set: the bridge refuses this forge's webhooks`,
    fix: `set ${name} to the secret of the forge's webhook (the same value on both sides)`,
  };
}

const githubUnreachable = (api: string, why: string): Finding => ({
  check: "github",
  ok: false,
  detail: `GitHub API at ${api} unreachable: ${why}`,
  fix: "check TASTER_GITHUB_API_URL (default https://api.github.com) and that this machine reaches it",
});

/** A GitHub App: its JWT (App id + private key) accepted by `GET /app`. */
async function checkGithubApp(github: Forges["github"], app: GithubAppCredentials): Promise<Finding> {
  const api = github.apiUrl;
  const check = "github";
  const fix = "check TASTER_GITHUB_APP_ID and the App's private key (docs/github-app.md, steps 3–5)";
  let jwt: string;
  try {
    jwt = await appJwt(app);
  } catch (error) {
    return { check, ok: false, detail: `the GitHub App's JWT cannot be signed: ${errorMessage(error)}`, fix };
  }
  const answer = await get(`${api}/app`, `Bearer ${jwt}`);
  if ("unreachable" in answer) return githubUnreachable(api, answer.unreachable);
  if (answer.status >= 300) {
    return {
      check,
      ok: false,
      detail: `GitHub at ${api} refused the App ${app.appId} (HTTP ${answer.status}${messageOf(answer.body)})`,
      fix,
    };
  }
  return {
    check,
    ok: true,
    detail: `${api} answers; App ${fieldOf(answer.body, "slug")} (id ${app.appId}) authenticates; installation tokens are taken per repository`,
  };
}

async function checkGithub(github: Forges["github"], trustOrgMembers: boolean): Promise<Finding> {
  if (github.app) return checkGithubApp(github, github.app);
  const api = github.apiUrl;
  const check = "github";
  if (!github.token) {
    return {
      check,
      ok: false,
      detail: "TASTER_GITHUB_TOKEN is not set: the bot cannot read PRs, comment or set statuses",
      fix: "create a token for the bot account (classic: scopes repo and read:org) and set TASTER_GITHUB_TOKEN",
    };
  }
  const answer = await get(`${api}/user`, `Bearer ${github.token}`);
  if ("unreachable" in answer) return githubUnreachable(api, answer.unreachable);
  if (answer.status === 401) {
    return {
      check,
      ok: false,
      detail: `GitHub at ${api} rejected TASTER_GITHUB_TOKEN (HTTP 401${messageOf(answer.body)})`,
      fix: "the token is wrong, expired or revoked: create a new one (classic: scopes repo and read:org) and set TASTER_GITHUB_TOKEN",
    };
  }
  if (answer.status >= 300) {
    return {
      check,
      ok: false,
      detail: `GitHub at ${api} answered HTTP ${answer.status}${messageOf(answer.body)} to GET /user`,
      fix: "check TASTER_GITHUB_API_URL points at the API (e.g. https://github.example/api/v3) and the token is a user token",
    };
  }
  const scopes = answer.headers.get("x-oauth-scopes");
  const login = fieldOf(answer.body, "login");
  if (scopes === null) {
    return {
      check,
      ok: true,
      detail: `${api} answers; token of ${login} works (fine-grained: GitHub lists no scopes; it needs Pull requests read, Issues and Commit statuses read & write, Members read)`,
    };
  }
  const have = scopes.split(",").map((s) => s.trim());
  const missing = [
    ...(have.includes("repo") || have.includes("public_repo") ? [] : ["repo"]),
    ...(trustOrgMembers && !have.some((s) => /^(read|write|admin):org$/.test(s)) ? ["read:org"] : []),
  ];
  return {
    check,
    ok: missing.length === 0,
    detail: `${api} answers; token of ${login} works (scopes: ${scopes || "none"})${missing.length ? `; missing: ${missing.join(", ")}` : ""}`,
    fix: `give the token the ${missing.join(" and ")} scope(s): repo to comment and set commit statuses, read:org to trust org members (or set TASTER_TRUST_ORG_MEMBERS=false)`,
  };
}

async function checkGitea(gitea: Forges["gitea"]): Promise<Finding> {
  const check = "gitea";
  const base = gitea.url;
  if (!base || !gitea.token) {
    return {
      check,
      ok: false,
      detail: `${base ? "TASTER_GITEA_TOKEN" : "TASTER_GITEA_URL"} is not set`,
      fix: `set TASTER_GITEA_URL (e.g. https://git.coopcloud.tech) and TASTER_GITEA_TOKEN (scopes ${GITEA_SCOPES})`,
    };
  }
  const answer = await get(`${base}/api/v1/user`, `token ${gitea.token}`);
  if ("unreachable" in answer) {
    return {
      check,
      ok: false,
      detail: `Gitea at ${base} unreachable: ${answer.unreachable}`,
      fix: "check TASTER_GITEA_URL (the Gitea's base URL, without /api/v1) and that this machine reaches it",
    };
  }
  if (answer.status === 401) {
    return {
      check,
      ok: false,
      detail: `Gitea at ${base} rejected TASTER_GITEA_TOKEN (HTTP 401${messageOf(answer.body)})`,
      fix: `the token is wrong or deleted: create one for the bot user (Settings → Applications, scopes ${GITEA_SCOPES}) and set TASTER_GITEA_TOKEN`,
    };
  }
  if (answer.status === 403) {
    return {
      check,
      ok: false,
      detail: `Gitea at ${base} refused GET /api/v1/user (HTTP 403${messageOf(answer.body)})`,
      fix: `the token lacks scopes: create one with ${GITEA_SCOPES} and set TASTER_GITEA_TOKEN`,
    };
  }
  if (answer.status >= 300) {
    return {
      check,
      ok: false,
      detail: `no Gitea API at ${base}/api/v1 (GET /user answered HTTP ${answer.status})`,
      fix: "set TASTER_GITEA_URL to the Gitea's base URL (e.g. https://git.coopcloud.tech, without /api/v1)",
    };
  }
  return {
    check,
    ok: true,
    detail: `${base} answers; token of ${fieldOf(answer.body, "login")} works (Gitea does not list a token's scopes: it needs ${GITEA_SCOPES})`,
  };
}

/** Every configured forge: reachable, token accepted, the scopes the bot needs; its webhook secret. */
export async function checkForges(
  forges: Forges,
  trustOrgMembers: boolean,
  webhooks = true,
): Promise<Finding[]> {
  const github = Boolean(
    forges.github.token || forges.github.app || (webhooks && forges.github.webhookSecrets.length),
  );
  const gitea = Boolean(
    forges.gitea.url || forges.gitea.token || (webhooks && forges.gitea.webhookSecrets.length),
  );
  if (!github && !gitea) {
    return [
      {
        check: "forge",
        ok: false,
        detail: "no forge configured (no TASTER_GITHUB_* nor TASTER_GITEA_* variable)",
        fix: "set TASTER_GITHUB_TOKEN and TASTER_GITHUB_WEBHOOK_SECRET, or TASTER_GITEA_URL, TASTER_GITEA_TOKEN and TASTER_GITEA_WEBHOOK_SECRET",
      },
    ];
  }
  const findings: Finding[] = [];
  if (github) findings.push(await checkGithub(forges.github, trustOrgMembers));
  if (github && webhooks) findings.push(webhookSecret("github", forges.github.webhookSecrets));
  if (gitea) findings.push(await checkGitea(forges.gitea));
  if (gitea && webhooks) findings.push(webhookSecret("gitea", forges.gitea.webhookSecrets));
  return findings;
}
