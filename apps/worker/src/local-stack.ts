/**
 * The whole of Taster on one machine, for the README demo and the end-to-end tests: the lab's
 * swarm and Redis, a forge simulator seeded with the hello-web sample PR, the bridge and a worker —
 * on free loopback ports, with generated secrets that are never printed.
 *
 * Not part of the production worker (import it as `@taster/worker/local-stack`).
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Bridge, createBridge, loadBridgeConfig } from "@taster/bridge";
import { childEnv, createLogger, errorMessage, type Logger, trustedBinary } from "@taster/core";
import { type ForgeKind, STICKY_MARKER } from "@taster/forge";
import {
  type ForgeSim,
  giteaCommentPayload,
  githubCheckRunPayload,
  githubCommentPayload,
  type SimCheckRun,
  sendGiteaWebhook,
  sendGithubWebhook,
  startForgeSim,
} from "@taster/forge-sim";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import { Redis } from "ioredis";
import { reportersFor } from "./forge";
import { createWorker, type TasterWorker, type WorkerOptions } from "./worker";

export const DEMO_REPO = "coop-cloud/hello-web";
export const DEMO_MAINTAINER = "alice";

export interface LocalStack {
  lab: LabInfo;
  /** The PR's repository on the simulated forge. */
  repo: string;
  /** The forge of `repo` (github unless asked otherwise). */
  forge: ForgeKind;
  /** Every PR repository of this stack and its forge (`repo`, then `otherForgeRepo` if asked for). */
  repos: Map<string, ForgeKind>;
  sim: ForgeSim;
  bridge: Bridge;
  bridgeUrl: string;
  worker: TasterWorker;
  /** The PR's head sha, as the lab repo's refs/pull/1/head says. */
  headSha: string;
  /** Every secret of this stack, so callers can check nothing printed them. */
  secrets: string[];
  /** The Redis key patterns of this stack alone (close() removes them). */
  keyPatterns: string[];
  /** A maintainer comments `body` on PR #1 of `repo` (default the main one) and its forge delivers the signed webhook. */
  comment(
    body: string,
    user?: string,
    repo?: string,
  ): Promise<{ status: number; runId?: string; outcome?: string }>;
  /** Resolves with the run's final state once it is finished AND its report reached the forge. */
  waitForVerdict(runId: string, onLogLine?: (line: string) => void, timeoutMs?: number): Promise<string>;
  /** The PR's sticky comment as the forge holds it now. */
  stickyComment(repo?: string): string | undefined;
  /** Latest commit status per context on the head sha. */
  statuses(repo?: string): { context: string; state: string; description?: string }[];
  /** With `app`: the check runs on the head sha, oldest first. */
  checkRuns(): SimCheckRun[];
  /** With `app`: someone presses "Re-run" on a check run (GitHub's `check_run` `rerequested`). */
  rerequest(
    checkRun: SimCheckRun,
    user?: string,
  ): Promise<{ status: number; runId?: string; outcome?: string }>;
  close(): Promise<void>;
}

export interface LocalStackOptions {
  /** The PR's repository (default coop-cloud/hello-web); tests give a unique owner so stacks never collide. */
  repo?: string;
  worker?: Partial<WorkerOptions>;
  /** Service log lines of the worker (redacted). */
  log?: (line: string) => void;
  /** Use this Redis instead of the lab's (chaos scenarios stop and restart a private one). */
  redisUrl?: string;
  /** Recipes routed to a second host (same engine, its own queue and capacity 1). */
  secondHostRecipes?: string[];
  /**
   * The forge of the PR's repository (default github). Only that forge's variables are given to
   * the bridge and the worker: a Gitea stack runs with no GitHub variable at all.
   */
  forge?: ForgeKind;
  /** A second PR repository on the other forge (PR #1 at the same head), both forges configured. */
  otherForgeRepo?: string;
  /** Taster as a GitHub App (installation tokens, check runs) instead of a personal token. */
  app?: boolean;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const lab = await ensureLab();
  const repo = options.repo ?? DEMO_REPO;
  const redisUrl = options.redisUrl ?? lab.redisUrl;
  const id = `${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const token = `ghp_${randomBytes(18).toString("hex")}`;
  const webhookSecret = randomBytes(24).toString("hex");
  const host = `local-${id}`.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  const keyPrefix = `local-${id}`;
  const bullPrefix = `localb-${id}`;
  const dataDir = await mkdtemp(join(tmpdir(), "taster-local-"));
  // A private mirror of the sample recipe, fetched by this stack only (the lab may republish its repos).
  const recipe = join(dataDir, "recipes", "hello-web.git");
  // Taster's own git, as everywhere: the system's binary, a closed environment (no tokens).
  const git = (args: string[]) =>
    execFileSync(trustedBinary("git"), args, { env: childEnv({ HOME: dataDir }) })
      .toString()
      .trim();
  git(["clone", "--quiet", "--mirror", recipeRepo(lab, "hello-web"), recipe]);
  const headSha = git(["--git-dir", recipe, "rev-parse", "refs/pull/1/head"]);

  // As an App: its key pair, the simulator knows the public half and the App is installed on the owner.
  const APP_ID = 4711;
  const appKeys = options.app
    ? generateKeyPairSync("rsa", {
        modulusLength: 2048,
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" },
      })
    : undefined;
  const app = appKeys ? { appId: String(APP_ID), privateKey: appKeys.privateKey } : undefined;
  const sim = await startForgeSim({
    token,
    ...(appKeys ? { app: { id: APP_ID, publicKey: appKeys.publicKey } } : {}),
  });
  if (appKeys) sim.state.installApp(repo.split("/")[0] ?? "", 81);
  const forge = options.forge ?? "github";
  const other: ForgeKind = forge === "github" ? "gitea" : "github";
  const repos = new Map<string, ForgeKind>([[repo, forge]]);
  if (options.otherForgeRepo) repos.set(options.otherForgeRepo, other);
  const kinds = new Set(repos.values());
  for (const r of repos.keys()) sim.state.setPermission(r, DEMO_MAINTAINER, "write");

  const port = await freePort();
  const config = loadBridgeConfig({
    TASTER_PORT: String(port),
    TASTER_BIND: "127.0.0.1",
    TASTER_REDIS_URL: redisUrl,
    TASTER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    TASTER_BOT_LOGIN: sim.state.botLogin,
    ...forgeVariables(kinds, sim, token, webhookSecret, app),
    TASTER_HOSTS: [host, ...(options.secondHostRecipes?.length ? [`${host}-b`] : [])]
      .map((name) => `${name}=${lab.dockerHost}@1`)
      .join(","),
    TASTER_RECIPE_HOSTS: (options.secondHostRecipes ?? []).map((recipe) => `${recipe}=${host}-b`).join(","),
    TASTER_RECONCILE_INTERVAL_SEC: "0",
    TASTER_REDIS_PREFIX: keyPrefix,
    TASTER_BULL_PREFIX: bullPrefix,
    // The PR repos (a Gitea one as gitea:owner/name), and the second host's recipes as repos of the same owner.
    TASTER_ENROLLED_REPOS: [
      ...[...repos].map(([r, kind]) => (kind === "gitea" ? `gitea:${r}` : r)),
      ...(options.secondHostRecipes ?? []).map((r) => `${repo.split("/")[0]}/${r}`),
    ].join(","),
  });
  const bridge = await createBridge(config, { logger: silentLogger() });
  const bridgeUrl = await bridge.start();
  // The forge tells the bridge about every push, so a comment is judged against the head it saw.
  for (const kind of kinds) sim.addWebhook({ forge: kind, url: bridgeUrl, secret: webhookSecret });
  for (const r of repos.keys())
    await sim.push(r, { number: 1, headSha, title: "Stop within 5 s on redeploys" });
  const worker = createWorker({
    host,
    hostUrl: lab.dockerHost,
    redisUrl,
    // Each forge's own reporter, built as `taster worker` builds them from its configuration.
    forges: reportersFor({
      ...(kinds.has("github")
        ? {
            github: {
              ...(app ? { app } : { token }),
              report: app ? ("checks" as const) : ("statuses" as const),
              apiUrl: sim.url,
            },
          }
        : {}),
      ...(kinds.has("gitea") ? { gitea: { url: sim.url, token } } : {}),
      botLogin: sim.state.botLogin,
    }),
    publicUrl: config.publicUrl,
    keyPrefix,
    bullPrefix,
    dataDir,
    recipeSource: () => recipe,
    secrets: [token, webhookSecret, ...(appKeys ? [appKeys.privateKey] : [])],
    ...(options.log ? { log: options.log } : {}),
    ...options.worker,
  });
  await worker.ready();

  let delivery = 0;
  const latestStatuses = (on = repo) => {
    const byContext = new Map<string, { context: string; state: string; description?: string }>();
    for (const s of sim.state.statuses.filter((x) => x.sha === headSha && x.repo === on)) {
      byContext.set(s.context, {
        context: s.context,
        state: s.state,
        ...(s.description ? { description: s.description } : {}),
      });
    }
    return [...byContext.values()].sort((a, b) => a.context.localeCompare(b.context));
  };

  /**
   * The bridge answers a webhook once the command is durably in its intake; the run is decided
   * after (trust, head sha, coalescing). Wait for that and return the run it became, if any.
   */
  /** The webhook's answer, then the run the bridge made of it (if any). */
  async function delivered(event: string, payload: unknown, kind: ForgeKind = "github") {
    const send = kind === "gitea" ? sendGiteaWebhook : sendGithubWebhook;
    const answer = await send(bridgeUrl, webhookSecret, event, payload, `local-${id}-${++delivery}`);
    const parsed = safeJson(answer.body) as { intakeId?: string; outcome?: string };
    const runId = parsed.intakeId ? await runOf(parsed.intakeId) : undefined;
    return {
      status: answer.status,
      ...(runId ? { runId } : {}),
      ...(parsed.outcome ? { outcome: parsed.outcome } : {}),
    };
  }

  async function runOf(intakeId: string, timeoutMs = 120_000): Promise<string | undefined> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const job = await bridge.intakeQueue.queue.getJob(intakeId);
      if (job?.finishedOn) return (job.returnvalue as { runId?: string } | null)?.runId;
      await sleep(50);
    }
    throw new Error(`the bridge did not process command ${intakeId} within ${timeoutMs / 1000}s`);
  }

  return {
    lab,
    repo,
    forge,
    repos,
    sim,
    bridge,
    bridgeUrl,
    worker,
    headSha,
    secrets: [token, webhookSecret, ...(appKeys ? [appKeys.privateKey] : [])],
    keyPatterns: [`${keyPrefix}:*`, `${bullPrefix}:*`],
    async comment(body, user = DEMO_MAINTAINER, on = repo) {
      const c = sim.state.addComment(on, 1, user, body);
      const input = { repo: on, pr: 1, body, user, commentId: c.id };
      // The comment's own forge sends it, signed its way, to its own endpoint.
      return repos.get(on) === "gitea"
        ? delivered("issue_comment", giteaCommentPayload(input), "gitea")
        : delivered("issue_comment", githubCommentPayload(input));
    },
    checkRuns: () => sim.state.checkRuns.filter((c) => c.repo === repo && c.headSha === headSha),
    rerequest: (checkRun, user = DEMO_MAINTAINER) =>
      delivered("check_run", githubCheckRunPayload({ repo, checkRun, user, appId: APP_ID })),
    async waitForVerdict(runId, onLogLine, timeoutMs = 10 * 60_000) {
      const until = Date.now() + timeoutMs;
      let after: string | undefined;
      // XREAD BLOCK: new log lines arrive as they are written; the wait doubles as the state check's pace.
      const reader = worker.logs.openReader(runId);
      try {
        for (;;) {
          for (const entry of await reader.next(after, 250)) {
            after = entry.id;
            onLogLine?.(entry.line);
          }
          const run = await worker.runs.getRun(runId);
          if (run && ["done", "failed", "cancelled", "superseded"].includes(run.state)) {
            for (const entry of await worker.logs.readLog(runId, after)) onLogLine?.(entry.line);
            const left = Math.max(1_000, until - Date.now());
            if (!(await worker.outbox.drained(runId, left)))
              throw new Error(`the report of ${runId} did not reach the forge`);
            return run.state;
          }
          if (Date.now() > until) throw new Error(`run ${runId} did not finish within ${timeoutMs / 1000}s`);
        }
      } finally {
        reader.close();
      }
    },
    stickyComment: (on = repo) =>
      sim.state.commentsOn(on, 1).find((c) => c.body.includes(STICKY_MARKER))?.body,
    statuses: latestStatuses,
    async close() {
      // Each part is closed even if another failed; a failure is told, never thrown over the rest.
      const told = (what: string) => (error: unknown) =>
        options.log?.(`local stack: closing ${what} failed: ${errorMessage(error)}`);
      await worker.close().catch(told("the worker"));
      await bridge.stop().catch(told("the bridge"));
      await sim.close().catch(told("the forge simulator"));
      await deleteKeys(redisUrl, [`${keyPrefix}:*`, `${bullPrefix}:*`]).catch(told("its Redis keys"));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The variables of the forges the stack's repos live on, and of no other forge. */
function forgeVariables(
  kinds: Set<ForgeKind>,
  sim: ForgeSim,
  token: string,
  secret: string,
  app?: { appId: string; privateKey: string },
): Record<string, string> {
  const githubAuth: Record<string, string> = app
    ? { TASTER_GITHUB_APP_ID: app.appId, TASTER_GITHUB_APP_PRIVATE_KEY: app.privateKey }
    : { TASTER_GITHUB_TOKEN: token };
  return {
    ...(kinds.has("github")
      ? { TASTER_GITHUB_WEBHOOK_SECRET: secret, ...githubAuth, TASTER_GITHUB_API_URL: sim.url }
      : {}),
    ...(kinds.has("gitea")
      ? { TASTER_GITEA_WEBHOOK_SECRET: secret, TASTER_GITEA_TOKEN: token, TASTER_GITEA_URL: sim.url }
      : {}),
  };
}

/** A free loopback port, so the run links in comments point at this bridge. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {}; // not JSON (an error page): the caller reads no intake id, and reports the status
  }
}

/** Removes only this stack's keys from the shared Redis. */
async function deleteKeys(redisUrl: string, patterns: string[]): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    for (const pattern of patterns) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== "0");
    }
  } finally {
    redis.disconnect();
  }
}

function silentLogger(): Logger {
  // The demo shows its own progress; the bridge's service log would only interleave with it.
  const logger = createLogger("bridge");
  logger.level = "silent";
  return logger;
}
