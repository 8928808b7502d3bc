import { execFileSync } from "node:child_process";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getPriority, setPriority } from "node:os";
import { createLogger, errorMessage, type Logger, Redactor } from "@taster/core";
import type { Forge, ForgeKind } from "@taster/forge";
import { connectRedis, IntakeQueue, type Redis, RunQueues, SweepStore } from "@taster/queue";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { CommentHandler } from "./comments";
import { answersWebhooks, type BridgeConfig, type BridgeRole, processesCommands } from "./config";
import { dashboardRouter } from "./dashboard/index";
import { Intake } from "./intake";
import { BridgeMetrics } from "./metrics";
import { Reconciler } from "./reconciler";
import { CheckRunRerun } from "./rerun";
import { webhookRouter } from "./webhooks";

/** The intake role's nice value (see yieldCpuToWebhookAnswers). */
const INTAKE_NICE = 10;

export interface BridgeOptions {
  /** Use this Redis connection instead of connecting to config.redisUrl (it stays open on stop). */
  redis?: Redis;
  /** Replace the forge adapters built from config (e.g. tuned retry waits in tests). */
  forges?: Partial<Record<ForgeKind, Forge>>;
  logger?: Logger;
  /** Retry policy and parallelism of the intake worker (tests shorten the backoff). */
  intake?: { attempts?: number; backoffMs?: number; concurrency?: number };
}

export interface Bridge {
  /** all = webhooks + processing; http = webhooks, dashboard, health, metrics; intake = processing + reconciler (+ health, metrics). */
  role: BridgeRole;
  app: Express;
  config: BridgeConfig;
  queues: RunQueues;
  metrics: BridgeMetrics;
  handler: CommentHandler;
  intake: Intake;
  intakeQueue: IntakeQueue;
  reconciler: Reconciler;
  /** Resolves once the intake queue is empty and acknowledgements are done (tests, benches). */
  settled(timeoutMs?: number): Promise<boolean>;
  /**
   * Listens on config.port (0 = any free port; every role serves /healthz, /readyz, /metrics) and, in
   * the all and intake roles, starts processing; resolves with the URL.
   */
  start(): Promise<string>;
  stop(): Promise<void>;
}

export async function createBridge(config: BridgeConfig, options: BridgeOptions = {}): Promise<Bridge> {
  const log = options.logger ?? createLogger("bridge");
  const ownsRedis = !options.redis;
  const redis = options.redis ?? connectRedis(config.redisUrl);
  redis.on("error", (error) => log.warn({ err: errorMessage(error) }, "redis connection problem"));
  // BullMQ queues check the server as they are built; on a fail-fast connection that is not up yet
  // that check fails for good, so let a fresh connection come up before building any.
  await untilConnected(redis, 5_000, log);
  const queues = new RunQueues({ redis, keyPrefix: config.keyPrefix, bullPrefix: config.bullPrefix });
  const metrics = new BridgeMetrics();
  // The http role never calls the forge: it builds no client (and needs no token), and does not
  // even load the adapters' modules (Octokit and its route tables are a good part of its memory).
  const forges =
    options.forges ??
    (processesCommands(config.role) ? await (await import("./forges")).buildForges(config, log) : {});
  const intakeQueue = new IntakeQueue({
    redis,
    keyPrefix: config.keyPrefix,
    bullPrefix: config.bullPrefix,
    ...(options.intake?.attempts ? { attempts: options.intake.attempts } : {}),
    ...(options.intake?.backoffMs ? { backoffMs: options.intake.backoffMs } : {}),
  });
  const handler = new CommentHandler(config, forges, queues, intakeQueue.pushes, metrics, log);
  const intake = new Intake(config, intakeQueue, metrics, log);
  const reconciler = new Reconciler(
    config.enrolledRepos,
    forges,
    intake,
    queues,
    metrics,
    log,
    config.reconcileWindowSec,
  );

  const app = express();
  app.disable("x-powered-by");
  // Only a configured proxy's X-Forwarded-For names the client (live-log limits count per address).
  if (config.trustProxy.length > 0) app.set("trust proxy", config.trustProxy);
  let processing: Processing | undefined;
  app.get("/healthz", (_req, res) => {
    res.json({ ok: true, role: config.role });
  });
  app.get("/readyz", async (_req, res) => {
    const ready = await readiness(config, queues, processing);
    res.status(ready.ok ? 200 : 503).json(ready);
  });
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // Aborted first thing in stop(): open live-log streams would otherwise hold server.close() open.
  const shutdown = new AbortController();
  if (answersWebhooks(config.role)) {
    const rerun = new CheckRunRerun(config, intakeQueue, queues.runs, log);
    app.use(webhookRouter(config, intake, metrics, log, rerun));
    app.use(
      dashboardRouter({
        runs: queues.runs,
        logs: queues.logs,
        queues,
        sweeps: new SweepStore(redis, config.keyPrefix),
        hosts: config.hosts,
        publicUrl: config.publicUrl,
        redactor: secretsRedactor(config),
        signal: shutdown.signal,
        liveLog: {
          maxClients: config.liveLog.maxClients,
          maxPerAddress: config.liveLog.maxPerAddress,
          maxStreamMs: config.liveLog.maxStreamSec * 1000,
        },
      }),
    );
  }
  app.use(
    (
      error: Error & { status?: number; type?: string },
      _req: Request,
      res: Response,
      _next: NextFunction,
    ) => {
      if (error.type === "entity.too.large") {
        res
          .status(413)
          .json({ outcome: "too-large", reason: `body is larger than ${config.maxBodyBytes} bytes` });
        return;
      }
      if (error.status && error.status >= 400 && error.status < 500) {
        res.status(error.status).json({ outcome: "bad-request", reason: error.message });
        return;
      }
      log.error({ err: errorMessage(error) }, "unexpected error handling a request");
      res.status(500).json({ outcome: "error", reason: "internal error" });
    },
  );

  let server: Server | undefined;
  return {
    role: config.role,
    app,
    config,
    queues,
    metrics,
    handler,
    intake,
    intakeQueue,
    reconciler,
    async settled(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const intakeBacklog = await intakeQueue.backlog();
        // Reports waiting out a forge outage (delayed retries) are safe in Redis: not "unsettled".
        const reports = await queues.reports.queue.getJobCounts("wait", "active", "prioritized");
        if (intakeBacklog === 0 && Object.values(reports).every((n) => n === 0))
          return handler.idle(Math.max(0, deadline - Date.now()));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return false;
    },
    async start() {
      await untilConnected(redis, 5_000, log);
      if (processesCommands(config.role))
        processing = startProcessing({
          config,
          queues,
          forges,
          intakeQueue,
          handler,
          reconciler,
          metrics,
          log,
          options,
        });
      server = app.listen(config.port, config.bind);
      // Outlive the proxy's idle keep-alive (Traefik: 90 s), so it never sends a webhook down a
      // connection Node is closing at that moment (the client sees ECONNRESET, the forge a failure).
      server.keepAliveTimeout = 95_000;
      await new Promise<void>((resolve, reject) => {
        server?.once("listening", resolve);
        server?.once("error", reject);
      });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      log.info(
        { url, role: config.role, publicUrl: config.publicUrl, forges: Object.keys(forges) },
        "bridge listening",
      );
      return url;
    },
    async stop() {
      shutdown.abort();
      // Finishes the commands in hand; waiting ones stay in Redis for the next bridge.
      await processing?.stop();
      if (server) {
        const closing = server;
        await new Promise<void>((resolve) => {
          closing.close(() => resolve());
          closing.closeIdleConnections();
        });
      }
      // Give 👀 reactions and replies a moment; the "queued" reports are already safe in the outbox.
      if (!(await handler.idle(10_000))) {
        log.warn(
          { pending: handler.pendingAcknowledgements },
          "stopping with acknowledgements still pending",
        );
      }
      await Promise.all([queues.close(), intakeQueue.close()]);
      if (ownsRedis) redis.disconnect();
    },
  };
}

/**
 * Gives a fresh connection a moment to come up, so the first deliveries are not refused 503 merely
 * because the bridge just started. Redis being down is not fatal: deliveries get 503 until it is back.
 */
async function untilConnected(redis: Redis, timeoutMs: number, log: Logger): Promise<void> {
  if (redis.status === "ready") return;
  const ready = new Promise<boolean>((resolve) => redis.once("ready", () => resolve(true)));
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  if (!(await Promise.race([ready, timeout])))
    log.warn({ status: redis.status }, "Redis is not reachable yet; deliveries get 503 until it is");
}

/**
 * The intake role's work is background work with a budget of seconds; webhook answers have one of
 * milliseconds. Where both roles share a host, this process gives way: Linux's SCHED_IDLE policy
 * (util-linux `chrt --idle`, every thread) runs it only on CPU time nothing else wants — measured
 * in bench/webhooks, the http role's p99 at 200 req/s went from ~70 ms (nice 10) to ~23 ms, with
 * the intake draining as fast as before. Lowering one's own policy needs no privilege. Where chrt
 * is missing, nice 10. Process-wide, so it is the caller's choice (`taster bridge --role intake`
 * makes it), not createBridge's.
 */
export function yieldCpuToWebhookAnswers(log: Logger = createLogger("bridge")): void {
  try {
    setPriority(Math.max(getPriority(), INTAKE_NICE));
    execFileSync("chrt", ["--idle", "--all-tasks", "--pid", "0", String(process.pid)], { stdio: "ignore" });
  } catch (error) {
    log.warn({ err: errorMessage(error) }, "could not fully lower the intake process's CPU priority");
  }
}

/** What a running processor exposes: whether it still takes commands, and how to stop it. */
interface Processing {
  running(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts everything that works on accepted commands (the all and intake roles): the intake's
 * processing, which moves each command from the inbox into the intake queue and processes it (a
 * failure is retried with backoff, the last one is counted and logged), and the reconciler. The one place processing starts; anything else that runs behind the
 * webhook answers belongs here too.
 */
function startProcessing(parts: {
  config: BridgeConfig;
  queues: RunQueues;
  forges: Partial<Record<ForgeKind, Forge>>;
  intakeQueue: IntakeQueue;
  handler: CommentHandler;
  reconciler: Reconciler;
  metrics: BridgeMetrics;
  log: Logger;
  options: BridgeOptions;
}): Processing {
  const { config, queues, forges, intakeQueue, handler, reconciler, metrics, log, options } = parts;
  const concurrency = options.intake?.concurrency;
  const intakeProcessing = intakeQueue.work(
    async (item) => {
      const processed = await handler.process(item);
      log.info(
        { repo: item.repo, pr: item.pr, commentId: item.commentId, ...processed },
        "command processed",
      );
      return processed;
    },
    {
      ...(concurrency ? { concurrency } : {}),
      onExhausted: (item, error) => {
        metrics.intakeFailures.inc({ forge: item.forge });
        log.error(
          { repo: item.repo, pr: item.pr, commentId: item.commentId, err: errorMessage(error) },
          "gave up on a !testme after every retry; the reconciler may still recover it",
        );
      },
    },
  );
  // "queued" reports go through the same ordered outbox as the worker's progress and verdicts.
  queues.reports.deliver((kind) => forges[kind as ForgeKind], {
    onError: (runId, error) => log.warn({ runId, err: errorMessage(error) }, "report not delivered yet"),
  });
  reconciler.start(config.reconcileIntervalSec);
  return {
    running: () => intakeProcessing.running(),
    async stop() {
      reconciler.stop();
      await intakeProcessing.close();
    },
  };
}

/** /readyz: Redis answers in every role; a processing role must also have its intake worker running. */
async function readiness(
  config: BridgeConfig,
  queues: RunQueues,
  processing: Processing | undefined,
): Promise<Record<string, unknown> & { ok: boolean }> {
  const forges = [config.github ? "github" : undefined, config.gitea ? "gitea" : undefined].filter(Boolean);
  const redis = await queues.ping().then(
    () => "ok",
    (error: unknown) => errorMessage(error),
  );
  const report: Record<string, unknown> & { ok: boolean } = {
    ok: redis === "ok",
    role: config.role,
    redis,
    forges,
  };
  if (processesCommands(config.role)) {
    const working = processing?.running() ?? false;
    report.intakeWorker = working ? "running" : "stopped";
    report.ok &&= working;
  }
  return report;
}

/** The bridge's own secrets, scrubbed from every page the dashboard serves. */
function secretsRedactor(config: BridgeConfig): Redactor {
  const redactor = new Redactor();
  for (const secret of [
    config.github?.token,
    config.github?.app?.privateKey,
    config.gitea?.token,
    ...(config.github?.webhookSecrets ?? []),
    ...(config.gitea?.webhookSecrets ?? []),
  ]) {
    redactor.add(secret);
  }
  return redactor;
}
