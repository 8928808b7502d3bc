import { isIP } from "node:net";
import { usageError } from "@taster/core";
import { z } from "zod";

export interface HostConfig {
  name: string;
  dockerHost: string;
  /** Runs at once on this host (the worker's concurrency). */
  capacity: number;
}

export interface EnrolledRepo {
  forge: "github" | "gitea";
  repo: string;
}

/**
 * Which half of the webhook path this process runs: `http` answers webhooks, the dashboard, health
 * and metrics and never calls the forge; `intake` processes accepted commands (forge API calls, run
 * enqueue) and runs the reconciler; `all` does both in one process (local use, the demo).
 */
export type BridgeRole = "all" | "http" | "intake";
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
  github?: { webhookSecrets: string[]; token: string; apiUrl: string };
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

const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const HOST_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** What Express's `trust proxy` accepts besides addresses and subnets. */
const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);
const isAddressOrSubnet = (entry: string): boolean => {
  const [address = "", bits, ...rest] = entry.split("/");
  const version = isIP(address);
  return (
    version !== 0 &&
    rest.length === 0 &&
    (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128)))
  );
};

/** `lab=unix:///var/run/docker.sock@2,big=ssh://root@10.0.0.5@4` — capacity after the last '@'. */
export function parseHosts(spec: string): HostConfig[] {
  return list(spec).map((entry) => {
    const match = /^([^=]+)=(.+?)(?:@(\d+))?$/.exec(entry);
    if (!match?.[1] || !match[2]) throw new Error(`"${entry}" is not name=docker-host[@capacity]`);
    const name = match[1].trim();
    if (!HOST_NAME.test(name))
      throw new Error(`host name "${name}" must be lowercase letters, digits and '-'`);
    const capacity = match[3] ? Number(match[3]) : 1;
    if (capacity < 1) throw new Error(`host "${name}" needs a capacity of at least 1`);
    return { name, dockerHost: match[2], capacity };
  });
}

function parseMap(spec: string | undefined, what: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of list(spec)) {
    const [key, value] = entry.split("=").map((s) => s.trim());
    if (!key || !value) throw new Error(`${what}: "${entry}" is not key=value`);
    map[key] = value;
  }
  return map;
}

function parseEnrolled(spec: string | undefined): EnrolledRepo[] {
  return list(spec).map((entry) => {
    const [forge, repo] = entry.includes(":") ? entry.split(":", 2) : ["github", entry];
    if ((forge !== "github" && forge !== "gitea") || !repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) {
      throw new Error(`"${entry}" is not owner/name or gitea:owner/name`);
    }
    return { forge, repo };
  });
}

const Env = z.object({
  TASTER_BRIDGE_ROLE: z.enum(BRIDGE_ROLES as [BridgeRole, ...BridgeRole[]]).default("all"),
  TASTER_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  TASTER_BIND: z.union([z.ipv4(), z.ipv6()]).default("0.0.0.0"),
  TASTER_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// URL")
    .default("redis://127.0.0.1:6379"),
  TASTER_PUBLIC_URL: z.url().optional(),
  TASTER_BOT_LOGIN: z.string().min(1).default("taster-bot"),
  TASTER_GITHUB_WEBHOOK_SECRET: z.string().optional(),
  TASTER_GITHUB_TOKEN: z.string().optional(),
  TASTER_GITHUB_API_URL: z.url().default("https://api.github.com"),
  TASTER_GITEA_URL: z.url().optional(),
  TASTER_GITEA_TOKEN: z.string().optional(),
  TASTER_GITEA_WEBHOOK_SECRET: z.string().optional(),
  TASTER_HOSTS: z.string().default("lab=unix:///var/run/docker.sock@1"),
  TASTER_RECIPE_HOSTS: z.string().optional(),
  TASTER_ENROLLED_REPOS: z.string().optional(),
  TASTER_RECONCILE_INTERVAL_SEC: z.coerce.number().int().min(0).default(300),
  TASTER_RECONCILE_WINDOW_SEC: z.coerce
    .number()
    .int()
    .min(60)
    .default(6 * 3600),
  TASTER_MAX_COMMENT_AGE_SEC: z.coerce
    .number()
    .int()
    .min(60)
    .default(6 * 3600),
  TASTER_TRIGGERERS_FILE: z.string().default("allowlist/triggerers.yml"),
  TASTER_TRUST_ORG_MEMBERS: z.enum(["true", "false"]).default("true"),
  TASTER_TRUST_MIN_PERMISSION: z.enum(["read", "triage", "write", "maintain", "admin"]).default("write"),
  TASTER_REDIS_PREFIX: z
    .string()
    .regex(/^[\w-]+$/)
    .default("taster"),
  TASTER_BULL_PREFIX: z
    .string()
    .regex(/^[\w-]+$/)
    .default("bull"),
  TASTER_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  TASTER_LIVE_LOG_MAX_CLIENTS: z.coerce.number().int().min(1).default(1_000),
  TASTER_LIVE_LOG_MAX_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
  TASTER_LIVE_LOG_MAX_SECONDS: z.coerce.number().int().min(10).default(600),
  TASTER_TRUST_PROXY: z
    .string()
    .default("")
    .refine((spec) => list(spec).every((entry) => PROXY_NAMES.has(entry) || isAddressOrSubnet(entry)), {
      message: "must be a comma-separated list of loopback, linklocal, uniquelocal, IP addresses or subnets",
    }),
});

/**
 * Reads and checks the bridge's configuration. Every problem is reported at once, by variable name,
 * and never with a secret's value. No webhook secret at all = refuse to start.
 */
export function loadBridgeConfig(env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw usageError(`invalid bridge configuration:\n  ${problems.join("\n  ")}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  const role = e.TASTER_BRIDGE_ROLE;
  const githubSecrets = list(e.TASTER_GITHUB_WEBHOOK_SECRET);
  const giteaSecrets = list(e.TASTER_GITEA_WEBHOOK_SECRET);
  // The intake role verifies no webhook, so there a forge is enabled by its token alone.
  const useGithub = githubSecrets.length > 0 || (role === "intake" && Boolean(e.TASTER_GITHUB_TOKEN));
  const useGitea =
    giteaSecrets.length > 0 || (role === "intake" && Boolean(e.TASTER_GITEA_URL && e.TASTER_GITEA_TOKEN));
  if (answersWebhooks(role) && githubSecrets.length === 0 && giteaSecrets.length === 0) {
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
    if (useGithub && !e.TASTER_GITHUB_TOKEN) {
      problems.push(
        "TASTER_GITHUB_TOKEN is required to process GitHub commands (read PRs, comment, set statuses)",
      );
    }
    if (useGitea && (!e.TASTER_GITEA_URL || !e.TASTER_GITEA_TOKEN)) {
      problems.push("TASTER_GITEA_URL and TASTER_GITEA_TOKEN are required to process Gitea commands");
    }
  }
  const attempt = <T>(what: string, read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      return fallback;
    }
  };
  const hosts = attempt("TASTER_HOSTS", () => parseHosts(e.TASTER_HOSTS), []);
  if (hosts.length === 0 && !problems.some((p) => p.startsWith("TASTER_HOSTS"))) {
    problems.push("TASTER_HOSTS: at least one host is needed, e.g. lab=unix:///var/run/docker.sock@2");
  }
  const recipeHosts = attempt(
    "TASTER_RECIPE_HOSTS",
    () => parseMap(e.TASTER_RECIPE_HOSTS, "recipe=host"),
    {},
  );
  for (const [recipe, host] of Object.entries(recipeHosts)) {
    if (!hosts.some((h) => h.name === host))
      problems.push(`TASTER_RECIPE_HOSTS: ${recipe} is routed to unknown host "${host}"`);
  }
  const enrolledRepos = attempt("TASTER_ENROLLED_REPOS", () => parseEnrolled(e.TASTER_ENROLLED_REPOS), []);
  for (const enrolled of enrolledRepos) {
    const configured = enrolled.forge === "github" ? useGithub : useGitea;
    if (!configured)
      problems.push(`TASTER_ENROLLED_REPOS: ${enrolled.forge}:${enrolled.repo} needs that forge configured`);
  }
  if (problems.length > 0) throw usageError(`invalid bridge configuration:\n  ${problems.join("\n  ")}`);

  return {
    role,
    port: e.TASTER_PORT,
    bind: e.TASTER_BIND,
    redisUrl: e.TASTER_REDIS_URL,
    publicUrl: (e.TASTER_PUBLIC_URL ?? `http://localhost:${e.TASTER_PORT}`).replace(/\/+$/, ""),
    botLogin: e.TASTER_BOT_LOGIN,
    ...(useGithub
      ? {
          github: {
            webhookSecrets: githubSecrets,
            token: e.TASTER_GITHUB_TOKEN ?? "",
            apiUrl: e.TASTER_GITHUB_API_URL,
          },
        }
      : {}),
    ...(useGitea
      ? {
          gitea: {
            url: e.TASTER_GITEA_URL ?? "",
            token: e.TASTER_GITEA_TOKEN ?? "",
            webhookSecrets: giteaSecrets,
          },
        }
      : {}),
    hosts,
    recipeHosts,
    enrolledRepos,
    maxCommentAgeSec: e.TASTER_MAX_COMMENT_AGE_SEC,
    reconcileIntervalSec: e.TASTER_RECONCILE_INTERVAL_SEC,
    reconcileWindowSec: e.TASTER_RECONCILE_WINDOW_SEC,
    triggerersFile: e.TASTER_TRIGGERERS_FILE,
    trust: {
      orgMembers: e.TASTER_TRUST_ORG_MEMBERS === "true",
      minPermission: e.TASTER_TRUST_MIN_PERMISSION,
    },
    keyPrefix: e.TASTER_REDIS_PREFIX,
    bullPrefix: e.TASTER_BULL_PREFIX,
    maxBodyBytes: e.TASTER_MAX_BODY_BYTES,
    liveLog: {
      maxClients: e.TASTER_LIVE_LOG_MAX_CLIENTS,
      maxPerAddress: e.TASTER_LIVE_LOG_MAX_PER_ADDRESS,
      maxStreamSec: e.TASTER_LIVE_LOG_MAX_SECONDS,
    },
    trustProxy: list(e.TASTER_TRUST_PROXY),
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
