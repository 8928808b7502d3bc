import { isIP } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { configError } from "@taster/core";
import { z } from "zod";
import { type GithubAppConfig, readGithubApp } from "./github-app";
import { type EnrolledRepo, type Host, list, parseEnrolled, parseHosts, parseMap } from "./hosts";
import { defaultHosts, VARIABLES, type VariableName } from "./schema";

export type BridgeRole = "all" | "http" | "intake";
export type MinPermission = "read" | "triage" | "write" | "maintain" | "admin";

/** The whole configuration, one section per concern; each process takes the sections it needs. */
export interface TasterConfig {
  redis: {
    url: string;
    keyPrefix: string;
    bullPrefix: string;
  };
  forge: {
    botLogin: string;
    github: {
      token?: string;
      /** GitHub as an App (exactly one of token and app). */
      app?: GithubAppConfig;
      /** check runs (App only) or commit statuses. */
      report: "checks" | "statuses";
      webhookSecrets: string[];
      apiUrl: string;
    };
    gitea: { url?: string; token?: string; webhookSecrets: string[] };
  };
  hosts: {
    hosts: Host[];
    /** recipe name → host name; recipes not listed go to the first host. */
    recipeHosts: Record<string, string>;
    /** host name → probe image; hosts not listed use the public default. */
    probeImages: Record<string, string>;
    dockerHost: string;
  };
  bridge: {
    role: BridgeRole;
    port: number;
    bind: string;
    publicUrl: string;
    maxBodyBytes: number;
    trustProxy: string[];
  };
  intake: {
    enrolledRepos: EnrolledRepo[];
    triggerersFile: string;
    trust: { orgMembers: boolean; minPermission: MinPermission };
    maxCommentAgeSec: number;
    reconcileIntervalSec: number;
    reconcileWindowSec: number;
  };
  dashboard: { liveLog: { maxClients: number; maxPerAddress: number; maxStreamSec: number } };
  /** dataDir unset: the worker's default, `.taster/runs` under its working directory. */
  worker: { recipeSource: string; dataDir?: string };
  sandbox: { uidBase: number; slots: number };
  /** schedule: a cron pattern, or null when sweeps are off. */
  sweep: { schedule: string | null; attempts: number; webhookUrl?: string };
  paths: { root: string; labDir: string; labRedisPort: number; logLevel: string };
  /** Every secret value configured, so what Taster writes can be redacted. */
  secrets: string[];
  /** The variables the environment set (non-empty); the others have their defaults. */
  given: ReadonlySet<VariableName>;
}

type Values = { [K in VariableName]: unknown };

const Env = z.object(
  Object.fromEntries(Object.entries(VARIABLES).map(([name, v]) => [name, v.schema])) as Record<
    VariableName,
    z.ZodType
  >,
);

/** How a problem with a variable is said: its name, its value unless secret, what is wrong, the fix. */
function problem(name: VariableName, raw: string | undefined, message: string): string {
  const variable = VARIABLES[name];
  const shown = raw === undefined ? "" : variable.secret ? " (value hidden)" : `=${JSON.stringify(raw)}`;
  return `${name}${shown}: ${message}; e.g. ${name}=${variable.example}`;
}

/** An empty variable is an unset one (compose files and scripts blank variables that way). */
function given(env: NodeJS.ProcessEnv): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of Object.keys(VARIABLES)) {
    const raw = env[name];
    if (raw !== undefined && raw.trim() !== "") values[name] = raw;
  }
  return values;
}

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

/**
 * Reads and checks every TASTER_* variable (and DOCKER_HOST): the configuration, or every problem
 * at once, each naming its variable and the fix and never showing a secret's value.
 */
export function collectConfig(env: NodeJS.ProcessEnv = process.env): {
  config: TasterConfig;
  problems: string[];
} {
  const raw = given(env);
  const problems: string[] = [];
  const parsed = Env.safeParse(raw);
  let values: Values;
  if (parsed.success) values = parsed.data as Values;
  else {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]) as VariableName;
      problems.push(problem(name, raw[name], issue.message));
    }
    // The rest is still checked: parse what passed, with the defaults for what did not.
    const bad = new Set(parsed.error.issues.map((i) => String(i.path[0])));
    values = Env.parse(Object.fromEntries(Object.entries(raw).filter(([k]) => !bad.has(k)))) as Values;
  }
  const attempt = <T>(name: VariableName, read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (error) {
      problems.push(problem(name, raw[name], error instanceof Error ? error.message : String(error)));
      return fallback;
    }
  };
  const str = (name: VariableName) => values[name] as string;
  const opt = (name: VariableName) => values[name] as string | undefined;
  const num = (name: VariableName) => values[name] as number;

  const dockerHost = str("DOCKER_HOST");
  const hosts = attempt(
    "TASTER_HOSTS",
    () => parseHosts(opt("TASTER_HOSTS") ?? defaultHosts(dockerHost)),
    [],
  );
  if (hosts.length === 0 && raw.TASTER_HOSTS && !problems.some((p) => p.startsWith("TASTER_HOSTS")))
    problems.push(problem("TASTER_HOSTS", raw.TASTER_HOSTS, "at least one host is needed"));
  const recipeHosts = attempt(
    "TASTER_RECIPE_HOSTS",
    () => parseMap(opt("TASTER_RECIPE_HOSTS"), "recipe=host"),
    {},
  );
  for (const [recipe, host] of Object.entries(recipeHosts)) {
    if (hosts.length > 0 && !hosts.some((h) => h.name === host))
      problems.push(
        problem(
          "TASTER_RECIPE_HOSTS",
          raw.TASTER_RECIPE_HOSTS,
          `${recipe} is routed to unknown host "${host}" (not in TASTER_HOSTS)`,
        ),
      );
  }
  const trustProxy = list(str("TASTER_TRUST_PROXY"));
  if (!trustProxy.every((entry) => PROXY_NAMES.has(entry) || isAddressOrSubnet(entry)))
    problems.push(
      problem(
        "TASTER_TRUST_PROXY",
        raw.TASTER_TRUST_PROXY,
        "must be a comma-separated list of loopback, linklocal, uniquelocal, IP addresses or subnets",
      ),
    );
  const githubAuth = readGithubApp(opt, (name, message) => problems.push(problem(name, raw[name], message)));
  const github = {
    ...(opt("TASTER_GITHUB_TOKEN") ? { token: str("TASTER_GITHUB_TOKEN") } : {}),
    ...githubAuth,
    webhookSecrets: list(opt("TASTER_GITHUB_WEBHOOK_SECRET")),
    apiUrl: str("TASTER_GITHUB_API_URL").replace(/\/+$/, ""),
  };
  const gitea = {
    ...(opt("TASTER_GITEA_URL") ? { url: str("TASTER_GITEA_URL").replace(/\/+$/, "") } : {}),
    ...(opt("TASTER_GITEA_TOKEN") ? { token: str("TASTER_GITEA_TOKEN") } : {}),
    webhookSecrets: list(opt("TASTER_GITEA_WEBHOOK_SECRET")),
  };
  const config: TasterConfig = {
    redis: {
      url: str("TASTER_REDIS_URL"),
      keyPrefix: str("TASTER_REDIS_PREFIX"),
      bullPrefix: str("TASTER_BULL_PREFIX"),
    },
    forge: { botLogin: str("TASTER_BOT_LOGIN"), github, gitea },
    hosts: {
      hosts,
      recipeHosts,
      probeImages: attempt(
        "TASTER_PROBE_IMAGES",
        () => parseMap(opt("TASTER_PROBE_IMAGES"), "host=image"),
        {},
      ),
      dockerHost,
    },
    bridge: {
      role: str("TASTER_BRIDGE_ROLE") as BridgeRole,
      port: num("TASTER_PORT"),
      bind: str("TASTER_BIND"),
      publicUrl: (opt("TASTER_PUBLIC_URL") ?? `http://localhost:${num("TASTER_PORT")}`).replace(/\/+$/, ""),
      maxBodyBytes: num("TASTER_MAX_BODY_BYTES"),
      trustProxy,
    },
    intake: {
      enrolledRepos: attempt("TASTER_ENROLLED_REPOS", () => parseEnrolled(opt("TASTER_ENROLLED_REPOS")), []),
      triggerersFile: str("TASTER_TRIGGERERS_FILE"),
      trust: {
        orgMembers: str("TASTER_TRUST_ORG_MEMBERS") === "true",
        minPermission: str("TASTER_TRUST_MIN_PERMISSION") as MinPermission,
      },
      maxCommentAgeSec: num("TASTER_MAX_COMMENT_AGE_SEC"),
      reconcileIntervalSec: num("TASTER_RECONCILE_INTERVAL_SEC"),
      reconcileWindowSec: num("TASTER_RECONCILE_WINDOW_SEC"),
    },
    dashboard: {
      liveLog: {
        maxClients: num("TASTER_LIVE_LOG_MAX_CLIENTS"),
        maxPerAddress: num("TASTER_LIVE_LOG_MAX_PER_ADDRESS"),
        maxStreamSec: num("TASTER_LIVE_LOG_MAX_SECONDS"),
      },
    },
    worker: {
      recipeSource: str("TASTER_RECIPE_SOURCE"),
      ...(opt("TASTER_DATA_DIR") ? { dataDir: str("TASTER_DATA_DIR") } : {}),
    },
    sandbox: { uidBase: num("TASTER_SANDBOX_UID_BASE"), slots: num("TASTER_SANDBOX_SLOTS") },
    sweep: {
      schedule: str("TASTER_SWEEP_SCHEDULE") === "off" ? null : str("TASTER_SWEEP_SCHEDULE"),
      attempts: num("TASTER_SWEEP_ATTEMPTS"),
      ...(opt("TASTER_SWEEP_WEBHOOK_URL") ? { webhookUrl: str("TASTER_SWEEP_WEBHOOK_URL") } : {}),
    },
    paths: {
      root: opt("TASTER_ROOT") ?? process.cwd(),
      labDir:
        opt("TASTER_LAB_DIR") ??
        join(env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state"), "taster-lab"),
      labRedisPort: num("TASTER_LAB_REDIS_PORT"),
      logLevel: str("TASTER_LOG_LEVEL"),
    },
    secrets: [...secretValues(raw), ...(githubAuth.app ? [githubAuth.app.privateKey] : [])],
    given: new Set(Object.keys(raw) as VariableName[]),
  };
  return { config, problems };
}

/** The values of the secret variables (a webhook secret list by entry, a Redis URL by password). */
function secretValues(raw: Record<string, string>): string[] {
  const secrets: string[] = [];
  for (const [name, variable] of Object.entries(VARIABLES)) {
    const value = raw[name];
    if (!("secret" in variable) || !variable.secret || !value) continue;
    if (name === "TASTER_REDIS_URL") {
      const password = /\/\/[^:@/]*:([^@/]+)@/.exec(value)?.[1];
      if (password) secrets.push(password);
    } else secrets.push(value, ...list(value));
  }
  return [...new Set(secrets)];
}

/**
 * The configuration from the environment (process.env by default), or a config error (exit 2)
 * listing every problem by variable name with its fix; `what` names the reader in the message.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env, what = "configuration"): TasterConfig {
  const { config, problems } = collectConfig(env);
  if (problems.length > 0) throw configProblems(problems, what);
  return config;
}

export const configProblems = (problems: string[], what = "configuration") =>
  configError(
    `invalid ${what}:\n  ${problems.join("\n  ")}`,
    "every TASTER_* variable is described in docs/configuration.md",
  );

/**
 * One variable, checked by its schema (a config error naming it when bad): for what must be known
 * before a command runs (e.g. TASTER_ROOT for option defaults), where the whole configuration is
 * not needed yet.
 */
export function readVariable<N extends VariableName>(name: N, env: NodeJS.ProcessEnv = process.env): unknown {
  const raw = env[name]?.trim() ? env[name] : undefined;
  const parsed = VARIABLES[name].schema.safeParse(raw);
  if (!parsed.success)
    throw configProblems([problem(name, raw, parsed.error.issues[0]?.message ?? "bad value")]);
  return parsed.data;
}

/** The Taster checkout (TASTER_ROOT, set by ./taster; else the current directory). */
export const tasterRoot = (env: NodeJS.ProcessEnv = process.env): string =>
  (readVariable("TASTER_ROOT", env) as string | undefined) ?? process.cwd();
