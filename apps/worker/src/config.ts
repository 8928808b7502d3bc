import {
  configProblems,
  DEFAULT_RECIPE_SOURCE,
  HOST_NAME,
  parseHosts as parseConfigHosts,
  readConfig,
  type TasterConfig,
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

export { recipeSourceFrom } from "./recipe-source";

export interface WorkerConfig {
  host: HostEntry;
  redisUrl: string;
  /** GitHub, with a personal token or as an App: its runs report there (statuses, or check runs as an App). */
  github?: {
    token?: string;
    app?: { appId: string; privateKey: string };
    report: "checks" | "statuses";
    apiUrl: string;
  };
  /** Gitea/Forgejo, when TASTER_GITEA_URL and TASTER_GITEA_TOKEN are set: its runs report there. */
  gitea?: { url: string; token: string };
  botLogin?: string;
  /** Where the bridge's dashboard answers (TASTER_PUBLIC_URL, the same default as the bridge's). */
  publicUrl: string;
  keyPrefix: string;
  bullPrefix: string;
  dataDir?: string;
  /**
   * TASTER_RECIPE_SOURCE when given (e.g. `/srv/recipes/{recipe}.git`), for every forge; unset,
   * each run's recipe comes from its own forge (see recipe-source.ts).
   */
  recipeSource?: string;
  /** host name → probe image (TASTER_PROBE_IMAGES). */
  probeImages: Record<string, string>;
  /** Every secret the environment holds, so the worker can redact them from what it writes. */
  secrets: string[];
  /** The whole configuration this was read from (the sweep reads its own sections of it). */
  all: TasterConfig;
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
 * defaults as the bridge's. The worker reports to each forge it has credentials for, and needs at
 * least one: GitHub (TASTER_GITHUB_TOKEN) and/or Gitea (TASTER_GITEA_URL + TASTER_GITEA_TOKEN).
 */
export function workerConfigFromEnv(
  env: NodeJS.ProcessEnv,
  flags: { host: string; name?: string; capacity?: number },
): WorkerConfig {
  const c = readConfig(env, "worker configuration");
  const { github, gitea } = c.forge;
  const hasGithub = Boolean(github.token || github.app);
  const problems: string[] = [];
  if (Boolean(gitea.url) !== Boolean(gitea.token)) {
    problems.push(
      `${gitea.url ? "TASTER_GITEA_TOKEN" : "TASTER_GITEA_URL"} is required with ${gitea.url ? "TASTER_GITEA_URL" : "TASTER_GITEA_TOKEN"} so the worker can report to Gitea; e.g. TASTER_GITEA_URL=https://git.coopcloud.tech`,
    );
  }
  if (!hasGithub && !(gitea.url && gitea.token) && problems.length === 0) {
    problems.push(
      "no forge to report to: set TASTER_GITHUB_TOKEN or a GitHub App (TASTER_GITHUB_APP_ID and its key, docs/github-app.md) and/or TASTER_GITEA_URL with TASTER_GITEA_TOKEN (Gitea/Forgejo); e.g. TASTER_GITEA_URL=https://git.coopcloud.tech",
    );
  }
  if (problems.length > 0) throw configProblems(problems, "worker configuration");
  return {
    host: pickHost(c.hosts.hosts, flags),
    redisUrl: c.redis.url,
    ...(hasGithub
      ? {
          github: {
            ...(github.token ? { token: github.token } : {}),
            ...(github.app ? { app: github.app } : {}),
            report: github.report,
            apiUrl: github.apiUrl,
          },
        }
      : {}),
    ...(gitea.url && gitea.token ? { gitea: { url: gitea.url, token: gitea.token } } : {}),
    // Unset, the worker takes the sticky comment whoever wrote it (the bot may have any login).
    ...(c.given.has("TASTER_BOT_LOGIN") ? { botLogin: c.forge.botLogin } : {}),
    publicUrl: c.bridge.publicUrl,
    keyPrefix: c.redis.keyPrefix,
    bullPrefix: c.redis.bullPrefix,
    ...(c.worker.dataDir ? { dataDir: c.worker.dataDir } : {}),
    ...(c.given.has("TASTER_RECIPE_SOURCE") ? { recipeSource: c.worker.recipeSource } : {}),
    probeImages: c.hosts.probeImages,
    secrets: c.secrets,
    all: c,
  };
}
