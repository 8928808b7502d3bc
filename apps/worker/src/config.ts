import {
  configProblems,
  DEFAULT_RECIPE_SOURCE,
  HOST_NAME,
  parseHosts as parseConfigHosts,
  readConfig,
} from "@taster/config";
import { usageError } from "@taster/core";

export { DEFAULT_RECIPE_SOURCE };

/** One test host as the bridge routes to it: `name=url@capacity` in TASTER_HOSTS. */
export interface HostEntry {
  name: string;
  url: string;
  capacity: number;
}

/** Parses TASTER_HOSTS, e.g. `lab=unix:///var/run/docker.sock@2,big=ssh://root@10.0.0.5@4`. */
export function parseHosts(spec: string | undefined): HostEntry[] {
  try {
    return parseConfigHosts(spec);
  } catch (error) {
    throw usageError(`TASTER_HOSTS ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function recipeSourceFrom(template: string): (job: { repo: string; recipe: string }) => string {
  if (!template.includes("{repo}") && !template.includes("{recipe}")) {
    throw usageError(`TASTER_RECIPE_SOURCE "${template}" must contain {repo} or {recipe}`);
  }
  return (job) => template.replaceAll("{repo}", job.repo).replaceAll("{recipe}", job.recipe);
}

export interface WorkerConfig {
  host: HostEntry;
  redisUrl: string;
  /** Empty when the worker is a GitHub App (githubApp). */
  githubToken: string;
  githubApp?: { appId: string; privateKey: string };
  githubReport: "checks" | "statuses";
  githubApiUrl: string;
  botLogin?: string;
  /** Where the bridge's dashboard answers (TASTER_PUBLIC_URL, the same default as the bridge's). */
  publicUrl: string;
  keyPrefix: string;
  bullPrefix: string;
  dataDir?: string;
  /** TASTER_RECIPE_SOURCE, e.g. `https://github.com/{repo}.git` (default) or `/srv/recipes/{recipe}.git`. */
  recipeSource: string;
  /** host name → probe image (TASTER_PROBE_IMAGES). */
  probeImages: Record<string, string>;
  /** Every secret the environment holds, so the worker can redact them from what it writes. */
  secrets: string[];
}

/** The worker's host: `--host` is a name or URL from TASTER_HOSTS; a URL not listed needs `--name`. */
function pickHost(hosts: HostEntry[], flags: { host: string; name?: string; capacity?: number }): HostEntry {
  const listed = hosts.find((h) => h.name === flags.host || h.url === flags.host);
  let host: HostEntry;
  if (listed) host = { ...listed, ...(flags.name ? { name: flags.name } : {}) };
  else if (flags.name) host = { name: flags.name, url: flags.host, capacity: 1 };
  else {
    throw usageError(
      `host "${flags.host}" is not in TASTER_HOSTS`,
      "list it there as name=url@capacity (as the bridge sees it), or give --name <queue name>",
    );
  }
  if (!HOST_NAME.test(host.name)) throw usageError(`host name "${host.name}" must be [a-z0-9-]`);
  if (flags.capacity !== undefined) {
    if (!Number.isInteger(flags.capacity) || flags.capacity < 1)
      throw usageError("--capacity must be a positive integer");
    host.capacity = flags.capacity;
  }
  return host;
}

/**
 * The worker's sections of the one configuration (@taster/config), the same variables and
 * defaults as the bridge's; the worker also needs a GitHub token to report.
 */
export function workerConfigFromEnv(
  env: NodeJS.ProcessEnv,
  flags: { host: string; name?: string; capacity?: number },
): WorkerConfig {
  const c = readConfig(env, "worker configuration");
  const token = c.forge.github.token;
  const app = c.forge.github.app;
  if (!token && !app) {
    throw configProblems(
      [
        "TASTER_GITHUB_TOKEN is required so the worker can report to the pull request (or a GitHub App: TASTER_GITHUB_APP_ID and its key, docs/github-app.md); e.g. TASTER_GITHUB_TOKEN=ghp_…",
      ],
      "worker configuration",
    );
  }
  return {
    host: pickHost(c.hosts.hosts, flags),
    redisUrl: c.redis.url,
    githubToken: token ?? "",
    ...(app ? { githubApp: app } : {}),
    githubReport: c.forge.github.report,
    githubApiUrl: c.forge.github.apiUrl,
    // Unset, the worker takes the sticky comment whoever wrote it (the bot may have any login).
    ...(c.given.has("TASTER_BOT_LOGIN") ? { botLogin: c.forge.botLogin } : {}),
    publicUrl: c.bridge.publicUrl,
    keyPrefix: c.redis.keyPrefix,
    bullPrefix: c.redis.bullPrefix,
    ...(c.worker.dataDir ? { dataDir: c.worker.dataDir } : {}),
    recipeSource: c.worker.recipeSource,
    probeImages: c.hosts.probeImages,
    secrets: c.secrets,
  };
}
