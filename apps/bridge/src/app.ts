import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger, errorMessage, type Logger, Redactor } from "@taster/core";
import {
  type Forge,
  type ForgeKind,
  GiteaForge,
  GithubForge,
  loadTriggerers,
  type Triggerer,
} from "@taster/forge";
import { connectRedis, IntakeQueue, type Redis, RunQueues } from "@taster/queue";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { CommentHandler } from "./comments";
import type { BridgeConfig } from "./config";
import { dashboardRouter } from "./dashboard/index";
import { Intake } from "./intake";
import { BridgeMetrics } from "./metrics";
import { Reconciler } from "./reconciler";
import { webhookRouter } from "./webhooks";

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
  /** Listens on config.port (0 = any free port) and starts the reconciler; resolves with the URL. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

export async function createBridge(config: BridgeConfig, options: BridgeOptions = {}): Promise<Bridge> {
  const log = options.logger ?? createLogger("bridge");
  const ownsRedis = !options.redis;
  const redis = options.redis ?? connectRedis(config.redisUrl);
  redis.on("error", (error) => log.warn({ err: errorMessage(error) }, "redis connection problem"));
  const queues = new RunQueues({ redis, keyPrefix: config.keyPrefix, bullPrefix: config.bullPrefix });
  const metrics = new BridgeMetrics();
  const forges = options.forges ?? buildForges(config, await loadTriggerers(config.triggerersFile), log);
  const handler = new CommentHandler(config, forges, queues, metrics, log);
  const intakeQueue = new IntakeQueue({
    redis,
    keyPrefix: config.keyPrefix,
    bullPrefix: config.bullPrefix,
    ...(options.intake?.attempts ? { attempts: options.intake.attempts } : {}),
    ...(options.intake?.backoffMs ? { backoffMs: options.intake.backoffMs } : {}),
  });
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
  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });
  app.get("/readyz", async (_req, res) => {
    try {
      await queues.ping();
      res.json({ ok: true, redis: "ok", forges: Object.keys(forges) });
    } catch (error) {
      res.status(503).json({ ok: false, redis: errorMessage(error) });
    }
  });
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(webhookRouter(config, intake, metrics, log));
  // Aborted first thing in stop(): open live-log streams would otherwise hold server.close() open.
  const shutdown = new AbortController();
  app.use(
    dashboardRouter({
      runs: queues.runs,
      logs: queues.logs,
      queues,
      hosts: config.hosts,
      publicUrl: config.publicUrl,
      redactor: secretsRedactor(config),
      signal: shutdown.signal,
    }),
  );
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
  let worker: ReturnType<IntakeQueue["work"]> | undefined;
  return {
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
        const counts = await intakeQueue.queue.getJobCounts("wait", "active", "delayed", "prioritized");
        if (Object.values(counts).every((n) => n === 0))
          return handler.idle(Math.max(0, deadline - Date.now()));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return false;
    },
    async start() {
      await untilConnected(redis, 5_000, log);
      worker = startIntakeWorker(intakeQueue, handler, metrics, log, options.intake?.concurrency);
      server = app.listen(config.port, config.bind);
      await new Promise<void>((resolve, reject) => {
        server?.once("listening", resolve);
        server?.once("error", reject);
      });
      reconciler.start(config.reconcileIntervalSec);
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      log.info({ url, publicUrl: config.publicUrl, forges: Object.keys(forges) }, "bridge listening");
      return url;
    },
    async stop() {
      shutdown.abort();
      reconciler.stop();
      // Finishes the commands in hand; waiting ones stay in Redis for the next bridge.
      await worker?.close();
      if (server) {
        const closing = server;
        await new Promise<void>((resolve) => {
          closing.close(() => resolve());
          closing.closeIdleConnections();
        });
      }
      // Give acknowledgements a moment; anything still pending is reported later by the worker.
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

/** Processes accepted commands; a failure is retried with backoff, the last one is counted and logged. */
function startIntakeWorker(
  intakeQueue: IntakeQueue,
  handler: CommentHandler,
  metrics: BridgeMetrics,
  log: Logger,
  concurrency?: number,
) {
  return intakeQueue.work(
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
}

/** The bridge's own secrets, scrubbed from every page the dashboard serves. */
function secretsRedactor(config: BridgeConfig): Redactor {
  const redactor = new Redactor();
  for (const secret of [
    config.github?.token,
    config.gitea?.token,
    ...(config.github?.webhookSecrets ?? []),
    ...(config.gitea?.webhookSecrets ?? []),
  ]) {
    redactor.add(secret);
  }
  return redactor;
}

function buildForges(
  config: BridgeConfig,
  triggerers: Triggerer[],
  log: Logger,
): Partial<Record<ForgeKind, Forge>> {
  const trust = { ...config.trust, triggerers };
  const forges: Partial<Record<ForgeKind, Forge>> = {};
  if (config.github) {
    forges.github = new GithubForge({
      token: config.github.token,
      baseUrl: config.github.apiUrl,
      botLogin: config.botLogin,
      trust,
      log: { warn: (message) => log.warn(message) },
    });
  }
  if (config.gitea) {
    forges.gitea = new GiteaForge({
      url: config.gitea.url,
      token: config.gitea.token,
      botLogin: config.botLogin,
      trust,
    });
  }
  return forges;
}
