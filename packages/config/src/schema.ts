import { z } from "zod";

/**
 * Every TASTER_* variable Taster reads, in one place: its section (which part of Taster reads
 * it), its schema (with the default), what it means and an example for error messages. readConfig
 * parses the environment with it and docs/configuration.md is generated from it.
 */
export type Section =
  | "redis"
  | "forge"
  | "hosts"
  | "bridge"
  | "intake"
  | "dashboard"
  | "worker"
  | "sandbox"
  | "sweep"
  | "paths";

export interface Variable {
  section: Section;
  schema: z.ZodType;
  description: string;
  /** Shown in errors as the fix: `e.g. NAME=example`. */
  example: string;
  /** Never printed: errors say "(value hidden)". */
  secret?: boolean;
  /** For the doc, when the default is not a literal (e.g. it follows another variable). */
  defaultText?: string;
}

/** Where the bridge, the worker, the doctor and the janitor find Redis when TASTER_REDIS_URL is unset. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
/** The Docker engine of this machine, as the Docker CLI defaults to it. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";
/** TASTER_HOSTS when unset: one host named `lab`, this machine's engine, one run at once. */
export const defaultHosts = (dockerHost: string): string => `lab=${dockerHost}@1`;
/** The scheduled sweep: weekly, Mondays at 03:00 UTC. */
export const DEFAULT_SWEEP_SCHEDULE = "0 3 * * 1";
/** Where a job's recipe is fetched from: `{repo}` (owner/name) and `{recipe}` are filled in. */
export const DEFAULT_RECIPE_SOURCE = "https://github.com/{repo}.git";

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: "must be a whole number" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const redisUrl = z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL");
const prefix = z.string().regex(/^[\w-]+$/, "must be letters, digits, '_' and '-'");
const bool = z.enum(["true", "false"], { error: "must be true or false" });
const url = z.url({ error: "must be an absolute http(s) URL" });

const v = (
  section: Section,
  schema: z.ZodType,
  description: string,
  example: string,
  extra: Pick<Variable, "secret" | "defaultText"> = {},
): Variable => ({ section, schema, description, example, ...extra });

export const VARIABLES = {
  // redis: the one Redis every process shares (queues, dedupe keys, the run store, live logs)
  TASTER_REDIS_URL: v(
    "redis",
    redisUrl.default(DEFAULT_REDIS_URL),
    "The Redis the bridge queues into and the workers, the doctor and the janitor read.",
    "redis://:password@redis:6379",
    { secret: true },
  ),
  TASTER_REDIS_PREFIX: v("redis", prefix.default("taster"), "Prefix of Taster's own Redis keys.", "taster"),
  TASTER_BULL_PREFIX: v("redis", prefix.default("bull"), "Prefix of BullMQ's queue keys.", "bull"),

  // forge: who Taster is on the forge and how it proves it
  TASTER_BOT_LOGIN: v(
    "forge",
    z.string().min(1).default("taster-bot"),
    "The bot's login: its own comments are ignored and its sticky comment is found by it.",
    "taster-bot",
  ),
  TASTER_GITHUB_TOKEN: v(
    "forge",
    z.string().optional(),
    "GitHub token of the bot (read PRs, comment, react, set statuses, read org membership); a worker needs it or the Gitea pair.",
    "ghp_…",
    { secret: true },
  ),
  TASTER_GITHUB_WEBHOOK_SECRET: v(
    "forge",
    z.string().optional(),
    "GitHub webhook secret(s), comma-separated while rotating; the bridge refuses unsigned webhooks.",
    "new-secret,old-secret",
    { secret: true },
  ),
  TASTER_GITHUB_API_URL: v(
    "forge",
    url.default("https://api.github.com"),
    "GitHub's API (GitHub Enterprise: https://github.example/api/v3).",
    "https://api.github.com",
  ),
  TASTER_GITHUB_APP_ID: v(
    "forge",
    z.string().regex(/^\d+$/, 'must be the App\'s numeric id (its settings page, "App ID")').optional(),
    "Authenticate to GitHub as this GitHub App (instead of TASTER_GITHUB_TOKEN): its numeric App ID. Needs the private key. See docs/github-app.md.",
    "123456",
  ),
  TASTER_GITHUB_APP_PRIVATE_KEY: v(
    "forge",
    z.string().optional(),
    "The GitHub App's private key (PEM; `\\n` escapes are accepted). Or TASTER_GITHUB_APP_PRIVATE_KEY_FILE.",
    "-----BEGIN RSA PRIVATE KEY-----\\n…",
    { secret: true },
  ),
  TASTER_GITHUB_APP_PRIVATE_KEY_FILE: v(
    "forge",
    z.string().optional(),
    "A file holding the GitHub App's private key (the .pem GitHub downloads; a swarm secret).",
    "/run/secrets/github-app.pem",
  ),
  TASTER_GITHUB_REPORT: v(
    "forge",
    z.enum(["auto", "checks", "statuses"], { error: "must be auto, checks or statuses" }).default("auto"),
    "How runs show on GitHub: check runs (needs the App) or commit statuses; auto = checks as an App, statuses with a token.",
    "statuses",
  ),
  TASTER_GITEA_URL: v(
    "forge",
    url.optional(),
    "Base URL of a Gitea/Forgejo (without /api/v1).",
    "https://git.coopcloud.tech",
  ),
  TASTER_GITEA_TOKEN: v(
    "forge",
    z.string().optional(),
    "Gitea token of the bot (scopes write:issue, write:repository, read:organization, read:user; see docs/gitea.md).",
    "…",
    { secret: true },
  ),
  TASTER_GITEA_WEBHOOK_SECRET: v(
    "forge",
    z.string().optional(),
    "Gitea webhook secret(s), comma-separated while rotating.",
    "new-secret,old-secret",
    { secret: true },
  ),

  // hosts: the swarm hosts runs go to
  TASTER_HOSTS: v(
    "hosts",
    z.string().optional(),
    "Test hosts as `name=docker-url@capacity,…`; each name is a queue (`taster-run-<name>`) with its worker.",
    "lab=unix:///var/run/docker.sock@2,big=ssh://root@10.0.0.5@4",
    { defaultText: "`lab=$DOCKER_HOST@1` (`DOCKER_HOST` unset: `unix:///var/run/docker.sock`)" },
  ),
  TASTER_RECIPE_HOSTS: v(
    "hosts",
    z.string().optional(),
    "`recipe=host,…` routes a recipe's runs to a host; recipes not listed go to the first host.",
    "notes=big",
  ),
  TASTER_PROBE_IMAGES: v(
    "hosts",
    z.string().optional(),
    "`host=image,…`: the probe image of each host; a host not listed pulls the public default (busybox).",
    "lab=taster-lab/probe:latest",
  ),
  DOCKER_HOST: v(
    "hosts",
    z.string().min(1).default(DEFAULT_DOCKER_HOST),
    "The Docker engine of `taster janitor`, `taster plan` and the default host (as for the Docker CLI).",
    "tcp://10.0.0.9:2376",
  ),

  // bridge: the HTTP side (webhooks, dashboard, health, metrics)
  TASTER_BRIDGE_ROLE: v(
    "bridge",
    z.enum(["all", "http", "intake"], { error: "must be all, http or intake" }).default("all"),
    "all: one process; http: webhooks, dashboard, health (never calls the forge); intake: processes commands and runs the reconciler.",
    "http",
  ),
  TASTER_PORT: v("bridge", int(0, 65_535).default(8080), "Port the bridge listens on.", "8080"),
  TASTER_BIND: v(
    "bridge",
    z.union([z.ipv4(), z.ipv6()], { error: "must be an IP address" }).default("0.0.0.0"),
    "Address the bridge listens on (all interfaces behind a proxy, 127.0.0.1 locally).",
    "127.0.0.1",
  ),
  TASTER_PUBLIC_URL: v(
    "bridge",
    url.optional(),
    "Where people reach Taster; run links are `<url>/runs/<id>`.",
    "https://taster.example.org",
    { defaultText: "`http://localhost:$TASTER_PORT`" },
  ),
  TASTER_MAX_BODY_BYTES: v(
    "bridge",
    int(1024).default(1024 * 1024),
    "Largest webhook body accepted.",
    "1048576",
  ),
  TASTER_TRUST_PROXY: v(
    "bridge",
    z.string().default(""),
    "Proxies whose X-Forwarded-For names the client: loopback, linklocal, uniquelocal, addresses or subnets (empty: none).",
    "uniquelocal,10.0.0.0/8",
  ),

  // intake: which commands start runs
  TASTER_ENROLLED_REPOS: v(
    "intake",
    z.string().optional(),
    "The only repositories whose commands are taken: `owner/name` (GitHub) or `gitea:owner/name`, comma-separated.",
    "coop-cloud/hello-web,gitea:coop-cloud/notes",
  ),
  TASTER_TRIGGERERS_FILE: v(
    "intake",
    z.string().min(1).default("allowlist/triggerers.yml"),
    "Who may trigger runs besides org members and collaborators.",
    "allowlist/triggerers.yml",
  ),
  TASTER_TRUST_ORG_MEMBERS: v(
    "intake",
    bool.default("true"),
    "Whether members of the repository's organisation may trigger runs.",
    "false",
  ),
  TASTER_TRUST_MIN_PERMISSION: v(
    "intake",
    z
      .enum(["read", "triage", "write", "maintain", "admin"], {
        error: "must be read, triage, write, maintain or admin",
      })
      .default("write"),
    "The repository permission that lets a commenter trigger runs.",
    "maintain",
  ),
  TASTER_MAX_COMMENT_AGE_SEC: v(
    "intake",
    int(60).default(6 * 3600),
    "A comment older than this never starts a run, however it arrives (webhook, redelivery, reconciler).",
    "21600",
  ),
  TASTER_RECONCILE_INTERVAL_SEC: v(
    "intake",
    int(0).default(300),
    "Seconds between reconciler passes over recent comments (0: off).",
    "300",
  ),
  TASTER_RECONCILE_WINDOW_SEC: v(
    "intake",
    int(60).default(6 * 3600),
    "How far back each reconciler pass looks.",
    "21600",
  ),

  // dashboard: live logs
  TASTER_LIVE_LOG_MAX_CLIENTS: v(
    "dashboard",
    int(1).default(1_000),
    "Live-log streams open at once, in all.",
    "1000",
  ),
  TASTER_LIVE_LOG_MAX_PER_ADDRESS: v(
    "dashboard",
    int(1).default(20),
    "Live-log streams open at once per client address.",
    "20",
  ),
  TASTER_LIVE_LOG_MAX_SECONDS: v(
    "dashboard",
    int(10).default(600),
    "The longest a live-log stream stays open (seconds).",
    "600",
  ),

  // worker: how runs are made
  TASTER_RECIPE_SOURCE: v(
    "worker",
    z
      .string()
      .refine((s) => s.includes("{repo}") || s.includes("{recipe}"), "must contain {repo} or {recipe}")
      .default(DEFAULT_RECIPE_SOURCE),
    "Overrides where every job's recipe is fetched from, whatever its forge; `{repo}` (owner/name) and `{recipe}` are filled in.",
    "/srv/recipes/{recipe}.git",
    {
      defaultText:
        "the run's own forge: `https://github.com/{repo}.git` (Enterprise: the web host of TASTER_GITHUB_API_URL) or `$TASTER_GITEA_URL/{repo}.git`",
    },
  ),
  TASTER_DATA_DIR: v(
    "worker",
    z.string().optional(),
    "Where the worker keeps each run's results.json and run.log (`<dir>/<runId>/`).",
    "/var/lib/taster/runs",
    { defaultText: "`.taster/runs` in the worker's working directory" },
  ),

  // sandbox: the users overlay tests run as (read by the harness)
  TASTER_SANDBOX_UID_BASE: v(
    "sandbox",
    int(1000, 2_147_000_000).default(61000),
    "First uid of the sandbox users overlay tests run as.",
    "61000",
  ),
  TASTER_SANDBOX_SLOTS: v(
    "sandbox",
    int(1, 1000).default(16),
    "Sandbox users (runs with tests at once on one machine); at least the worker's capacity.",
    "16",
  ),

  // sweep: the scheduled sweep of every enrolled recipe at its newest release (docs/sweep.md)
  TASTER_SWEEP_SCHEDULE: v(
    "sweep",
    z
      .string()
      .trim()
      .refine(
        (s) => s === "off" || /^\S+(\s+\S+){4,5}$/.test(s),
        "must be a cron pattern (5 or 6 fields) or off",
      )
      .default(DEFAULT_SWEEP_SCHEDULE),
    "When each worker sweeps the enrolled recipes routed to its host (cron, UTC; `off`: never). Default: weekly, Mondays 03:00.",
    "0 3 * * *",
  ),
  TASTER_SWEEP_ATTEMPTS: v(
    "sweep",
    int(0, 10).default(2),
    "Re-runs of a tier that failed in a sweep, alone on the host, to tell a flake from a genuine failure.",
    "3",
  ),
  TASTER_SWEEP_WEBHOOK_URL: v(
    "sweep",
    z.url({ error: "must be an http(s) URL" }).optional(),
    "Where a recipe's level change after a sweep is posted (JSON), at most once per recipe per sweep.",
    "https://matrix-hookshot.example.org/webhook/abc",
    { secret: true },
  ),

  // paths: this machine's Taster (the CLI and the lab)
  TASTER_ROOT: v("paths", z.string().optional(), "The Taster checkout (set by ./taster).", "/srv/taster", {
    defaultText: "the current directory",
  }),
  TASTER_LAB_DIR: v(
    "paths",
    z.string().optional(),
    "The lab's state (lab.json, keys); one lab per machine, shared by every checkout.",
    "/var/lib/taster-lab",
    { defaultText: "`$XDG_STATE_HOME/taster-lab` (`~/.local/state/taster-lab`)" },
  ),
  TASTER_LAB_REDIS_PORT: v("paths", int(1, 65_535).default(6390), "Port of the lab's Redis.", "6390"),
  TASTER_LAB_SSH_PORT: v(
    "paths",
    int(1, 65_535).default(2222),
    "Port of the lab's sshd (read by infra/lab/lab.sh).",
    "2222",
  ),
  TASTER_LAB_DEBIAN_MIRROR: v(
    "paths",
    z.string().min(1).default("http://deb.debian.org/debian"),
    "Debian mirror the lab's images are built from (read by infra/lab/images/build-debian.sh).",
    "http://ftp.de.debian.org/debian",
  ),
  TASTER_LOG_LEVEL: v(
    "paths",
    z
      .enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"], {
        error: "must be trace, debug, info, warn, error, fatal or silent",
      })
      .default("info"),
    "Log level of the bridge's and the worker's structured logs.",
    "debug",
  ),
} satisfies Record<string, Variable>;

export type VariableName = keyof typeof VARIABLES;

/** Set by Taster itself or only by its own tests, never by an operator: listed so every TASTER_* name is explained. */
export const INTERNAL_VARIABLES: Record<string, string> = {
  TASTER_CONTEXT: "the run's context (stack, domain, services) handed to overlay tests",
  TASTER_BROKER_SOCKET: "the socket of the run's broker, for overlay tests",
  TASTER_BROKER_TOKEN: "the overlay tests' token for that broker",
  TASTER_REDIS_PASSWORD: "read by the image's entrypoint (infra/deploy), which adds it to TASTER_REDIS_URL",
  TASTER_CHROMIUM: "the browser of the dashboard's browser test (default /usr/bin/chromium)",
  TASTER_TEST_OUTAGE_MS: "how long the worker test's forge outage lasts (default 8000)",
  TASTER_X_FILE:
    "any TASTER_X given as a file (a swarm secret): the image's entrypoint reads it into TASTER_X",
};
