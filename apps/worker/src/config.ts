import { usageError } from "@taster/core";
import { z } from "zod";

/** One test host as the bridge routes to it: `name=url@capacity` in TASTER_HOSTS. */
export interface HostEntry {
  name: string;
  url: string;
  capacity: number;
}

const HOST_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Parses TASTER_HOSTS, e.g. `lab=unix:///var/run/docker.sock@2,big=ssh://root@10.0.0.5@4`. */
export function parseHosts(spec: string | undefined): HostEntry[] {
  if (!spec?.trim()) return [];
  return spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const eq = entry.indexOf("=");
      if (eq <= 0) throw usageError(`TASTER_HOSTS entry "${entry}" must be name=url[@capacity]`);
      const name = entry.slice(0, eq);
      let url = entry.slice(eq + 1);
      let capacity = 1;
      const at = url.match(/@(\d+)$/);
      if (at?.[1]) {
        capacity = Number(at[1]);
        url = url.slice(0, -at[0].length);
      }
      if (!HOST_NAME.test(name)) throw usageError(`TASTER_HOSTS host name "${name}" must be [a-z0-9-]`);
      if (capacity < 1) throw usageError(`TASTER_HOSTS capacity of "${name}" must be at least 1`);
      return { name, url, capacity };
    });
}

const EnvSchema = z.object({
  TASTER_REDIS_URL: z
    .string({ error: "required (the Redis the bridge queues into, e.g. redis://127.0.0.1:6379)" })
    .regex(/^rediss?:\/\//, "must be a redis:// URL"),
  TASTER_GITHUB_TOKEN: z
    .string({ error: "required so the worker can report to the pull request" })
    .min(1, "required so the worker can report to the pull request"),
  TASTER_GITHUB_API_URL: z.string().url().optional(),
  TASTER_BOT_LOGIN: z.string().optional(),
  TASTER_PUBLIC_URL: z.string().url().optional(),
  TASTER_HOSTS: z.string().optional(),
  TASTER_REDIS_PREFIX: z.string().optional(),
  TASTER_BULL_PREFIX: z.string().optional(),
  TASTER_DATA_DIR: z.string().optional(),
  TASTER_GITHUB_WEBHOOK_SECRET: z.string().optional(),
  TASTER_RECIPE_SOURCE: z.string().optional(),
});

/** Where a job's recipe is fetched from: `{repo}` (owner/name) and `{recipe}` are filled in. */
export const DEFAULT_RECIPE_SOURCE = "https://github.com/{repo}.git";

export function recipeSourceFrom(template: string): (job: { repo: string; recipe: string }) => string {
  if (!template.includes("{repo}") && !template.includes("{recipe}")) {
    throw usageError(`TASTER_RECIPE_SOURCE "${template}" must contain {repo} or {recipe}`);
  }
  return (job) => template.replaceAll("{repo}", job.repo).replaceAll("{recipe}", job.recipe);
}

export interface WorkerConfig {
  host: HostEntry;
  redisUrl: string;
  githubToken: string;
  githubApiUrl?: string;
  botLogin?: string;
  publicUrl?: string;
  keyPrefix?: string;
  bullPrefix?: string;
  dataDir?: string;
  /** TASTER_RECIPE_SOURCE, e.g. `https://github.com/{repo}.git` (default) or `/srv/recipes/{recipe}.git`. */
  recipeSource: string;
  /** Every secret the environment holds, so the worker can redact them from what it writes. */
  secrets: string[];
}

/**
 * The worker's configuration from the same TASTER_* variables as the bridge. `--host` is a name or
 * URL from TASTER_HOSTS (the bridge routes by name); a URL not listed there needs `--name`.
 */
export function workerConfigFromEnv(
  env: NodeJS.ProcessEnv,
  flags: { host: string; name?: string; capacity?: number },
): WorkerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw usageError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  }
  const e = parsed.data;
  const hosts = parseHosts(e.TASTER_HOSTS);
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
  return {
    host,
    redisUrl: e.TASTER_REDIS_URL,
    githubToken: e.TASTER_GITHUB_TOKEN,
    ...(e.TASTER_GITHUB_API_URL ? { githubApiUrl: e.TASTER_GITHUB_API_URL } : {}),
    ...(e.TASTER_BOT_LOGIN ? { botLogin: e.TASTER_BOT_LOGIN } : {}),
    ...(e.TASTER_PUBLIC_URL ? { publicUrl: e.TASTER_PUBLIC_URL } : {}),
    ...(e.TASTER_REDIS_PREFIX ? { keyPrefix: e.TASTER_REDIS_PREFIX } : {}),
    ...(e.TASTER_BULL_PREFIX ? { bullPrefix: e.TASTER_BULL_PREFIX } : {}),
    ...(e.TASTER_DATA_DIR ? { dataDir: e.TASTER_DATA_DIR } : {}),
    recipeSource: e.TASTER_RECIPE_SOURCE ?? DEFAULT_RECIPE_SOURCE,
    secrets: [e.TASTER_GITHUB_TOKEN, ...(e.TASTER_GITHUB_WEBHOOK_SECRET ?? "").split(",")].filter(Boolean),
  };
}
