import {
  type BridgeRole,
  collectConfig,
  configProblems,
  type EnrolledRepo,
  type GithubAppConfig,
  parseHosts as parseConfigHosts,
  type TasterConfig,
} from "@taster/config";

export type { BridgeRole, EnrolledRepo };

export interface HostConfig {
  name: string;
  dockerHost: string;
  /** Runs at once on this host (the worker's concurrency). */
  capacity: number;
}

/**
 * Which half of the webhook path this process runs: `http` answers webhooks, the dashboard, health
 * and metrics and never calls the forge; `intake` processes accepted commands (forge API calls, run
 * enqueue) and runs the reconciler; `all` does both in one process (local use, the demo).
 */
export const BRIDGE_ROLES: readonly BridgeRole[] = ["all", "http", "intake"];

/** Whether this role answers webhooks (needs a webhook secret) / processes commands (needs a forge token). */
export const answersWebhooks = (role: BridgeRole): boolean => role !== "intake";
export const processesCommands = (role: BridgeRole): boolean => role !== "http";

export interface BridgeConfig {
  role: BridgeRole;
  port: number;
  /** Address to listen on: all interfaces behind a proxy, loopback for the local demo. */
  bind: string;
  redisUrl: string;
  /** Where people reach Taster; run links are `${publicUrl}/runs/<runId>`. */
  publicUrl: string;
  botLogin: string;
  /** A forge is configured when it can be served in this role (secret for http, token for intake). */
  github?: {
    webhookSecrets: string[];
    token: string;
    /** GitHub as an App (then `token` is empty): installation tokens, check runs. */
    app?: GithubAppConfig;
    report: "checks" | "statuses";
    apiUrl: string;
  };
  gitea?: { url: string; token: string; webhookSecrets: string[] };
  hosts: HostConfig[];
  /** recipe name → host name; recipes not listed go to the first host. */
  recipeHosts: Record<string, string>;
  /** The only repos whose commands and pushes are taken (others are refused at intake, silently). */
  enrolledRepos: EnrolledRepo[];
  /**
   * A comment older than this (by its forge `created_at`) never starts a run, however it arrives:
   * webhook, redelivery, reconciler, or a captured signed body replayed after the seen-keys expired.
   */
  maxCommentAgeSec: number;
  /** Seconds between reconciler passes (0 = off) and how far back each pass looks. */
  reconcileIntervalSec: number;
  reconcileWindowSec: number;
  triggerersFile: string;
  trust: { orgMembers: boolean; minPermission: "read" | "triage" | "write" | "maintain" | "admin" };
  keyPrefix: string;
  bullPrefix: string;
  maxBodyBytes: number;
  /** Live-log streams: at once in all, per client address, and the longest one stays open (seconds). */
  liveLog: { maxClients: number; maxPerAddress: number; maxStreamSec: number };
  /** Express's `trust proxy`: which proxies' X-Forwarded-For names the client (empty: none). */
  trustProxy: string[];
}

/** TASTER_HOSTS as the bridge routes to it (the one parser is @taster/config's). */
export function parseHosts(spec: string): HostConfig[] {
  return parseConfigHosts(spec).map((h) => ({ name: h.name, dockerHost: h.url, capacity: h.capacity }));
}

/** What only the bridge requires, by role: a webhook secret to answer webhooks, a token to act. */
function roleProblems(c: TasterConfig, useGithub: boolean, useGitea: boolean): string[] {
  const { role } = c.bridge;
  const { github, gitea } = c.forge;
  const problems: string[] = [];
  if (answersWebhooks(role) && github.webhookSecrets.length === 0 && gitea.webhookSecrets.length === 0) {
    problems.push(
      "no webhook secret configured: set TASTER_GITHUB_WEBHOOK_SECRET (comma-separated for rotation) and/or TASTER_GITEA_WEBHOOK_SECRET — Taster will not accept unsigned webhooks",
    );
  }
  if (processesCommands(role)) {
    if (!useGithub && !useGitea) {
      problems.push(
        `TASTER_BRIDGE_ROLE=${role} processes commands and needs a forge token: set TASTER_GITHUB_TOKEN and/or TASTER_GITEA_URL with TASTER_GITEA_TOKEN`,
      );
    }
    if (useGithub && !github.token && !github.app) {
      problems.push(
        "TASTER_GITHUB_TOKEN is required to process GitHub commands (read PRs, comment, set statuses), or a GitHub App: TASTER_GITHUB_APP_ID with its private key",
      );
    }
    if (useGitea && (!gitea.url || !gitea.token)) {
      problems.push("TASTER_GITEA_URL and TASTER_GITEA_TOKEN are required to process Gitea commands");
    }
  }
  for (const enrolled of c.intake.enrolledRepos) {
    if (!(enrolled.forge === "github" ? useGithub : useGitea))
      problems.push(`TASTER_ENROLLED_REPOS: ${enrolled.forge}:${enrolled.repo} needs that forge configured`);
  }
  return problems;
}

/**
 * The bridge's sections of the one configuration (@taster/config), plus what its role requires.
 * Every problem is reported at once, by variable name, and never with a secret's value. No
 * webhook secret at all = refuse to start.
 */
export function loadBridgeConfig(env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const { config: c, problems } = collectConfig(env);
  const { role } = c.bridge;
  const { github, gitea } = c.forge;
  // The intake role verifies no webhook, so there a forge is enabled by its token alone.
  const useGithub =
    github.webhookSecrets.length > 0 || (role === "intake" && Boolean(github.token || github.app));
  const useGitea =
    gitea.webhookSecrets.length > 0 || (role === "intake" && Boolean(gitea.url && gitea.token));
  problems.push(...roleProblems(c, useGithub, useGitea));
  if (problems.length > 0) throw configProblems(problems, "bridge configuration");

  return {
    role,
    port: c.bridge.port,
    bind: c.bridge.bind,
    redisUrl: c.redis.url,
    publicUrl: c.bridge.publicUrl,
    botLogin: c.forge.botLogin,
    ...(useGithub
      ? {
          github: {
            webhookSecrets: github.webhookSecrets,
            token: github.token ?? "",
            ...(github.app ? { app: github.app } : {}),
            report: github.report,
            apiUrl: github.apiUrl,
          },
        }
      : {}),
    ...(useGitea
      ? { gitea: { url: gitea.url ?? "", token: gitea.token ?? "", webhookSecrets: gitea.webhookSecrets } }
      : {}),
    hosts: c.hosts.hosts.map((h) => ({ name: h.name, dockerHost: h.url, capacity: h.capacity })),
    recipeHosts: c.hosts.recipeHosts,
    enrolledRepos: c.intake.enrolledRepos,
    maxCommentAgeSec: c.intake.maxCommentAgeSec,
    reconcileIntervalSec: c.intake.reconcileIntervalSec,
    reconcileWindowSec: c.intake.reconcileWindowSec,
    triggerersFile: c.intake.triggerersFile,
    trust: c.intake.trust,
    keyPrefix: c.redis.keyPrefix,
    bullPrefix: c.redis.bullPrefix,
    maxBodyBytes: c.bridge.maxBodyBytes,
    liveLog: c.dashboard.liveLog,
    trustProxy: c.bridge.trustProxy,
  };
}

/** The host a recipe's runs go to. */
export function hostFor(config: BridgeConfig, recipe: string): string {
  return config.recipeHosts[recipe] ?? config.hosts[0]?.name ?? "lab";
}

/** Whether a repo is enrolled (owner/name compared case-insensitively, as the forges do). */
export function isEnrolled(config: BridgeConfig, forge: string, repo: string): boolean {
  const wanted = repo.toLowerCase();
  return config.enrolledRepos.some((r) => r.forge === forge && r.repo.toLowerCase() === wanted);
}

/** A recipe's name is its repository's name (coop-cloud/hello-web → hello-web). */
export const recipeOf = (repo: string): string => repo.split("/")[1] ?? repo;
