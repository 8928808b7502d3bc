/**
 * The worker of one swarm host: composes the consumer (BullMQ), the job processor (one run) and
 * the publisher (reports to the outbox), and starts the outbox's delivery to the forge.
 */
import { join } from "node:path";
import { Redactor, urlCredentials } from "@taster/core";
import type { ForgeKind } from "@taster/forge";
import {
  type BackoffPolicy,
  Keys,
  ReportOutbox,
  type ReportPort,
  type RunJob,
  RunLog,
  RunStore,
  upsertSweepScheduler,
} from "@taster/queue";
import type { ConnectOptions } from "@taster/swarm";
import { Redis } from "ioredis";
import { startConsumer } from "./consumer";
import { type Logger, reason, workerLogger } from "./log";
import { createJobProcessor, type RunStep } from "./process-job";
import { createPublisher } from "./publisher";

export type { RunStep } from "./process-job";
export { stackOf } from "./results";

export interface WorkerOptions {
  /** Host slug: the worker consumes `taster-run-<host>` only. */
  host: string;
  /** Docker host URL the runs deploy to (default $DOCKER_HOST, else the local socket). */
  hostUrl?: string;
  /** How to reach it over SSH/TLS (known_hosts, key, certificates): for the runs and for removing what a run left. */
  hostOptions?: ConnectOptions;
  /** The host's probe image (TASTER_PROBE_IMAGES); unset: the harness default (the lab's). */
  probeImage?: string;
  /** Runs at once (BullMQ concurrency). Default 1. */
  capacity?: number;
  redisUrl: string;
  /**
   * Where reports go, by the forge a run's command came from: a GithubForge and/or GiteaForge
   * (retries off: the outbox retries, durably). A run of a forge not given here is never reported
   * through another one: its delivery fails, logged, and waits for a process that has that forge.
   */
  forges: Partial<Record<ForgeKind, ReportPort>>;
  /** Base of the run page and log links in comments. */
  publicUrl?: string;
  /** Same prefixes as the bridge's RunQueues (`keyPrefix` default "taster", `bullPrefix` "bull"). */
  keyPrefix?: string;
  bullPrefix?: string;
  /** The recipe repository to fetch for a job (default: job.recipe). */
  recipeSource?: (job: RunJob) => string;
  runStep?: RunStep;
  /** Where each run's results.json and run.log are kept (`<dataDir>/<runId>/`). */
  dataDir?: string;
  /**
   * Infrastructure errors: backoff between attempts, and at most `attempts` tries (BullMQ's job
   * `attempts`, RUN_ATTEMPTS, is the other bound). Recipe failures and config errors never retry.
   */
  infraRetry?: BackoffPolicy;
  reportBackoff?: BackoffPolicy;
  /** BullMQ lock and stalled-check interval; short in tests so a dead worker's job is retaken fast. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Values that must never leave the worker (forge token, webhook secrets). */
  secrets?: string[];
  /** Scheduled sweeps (sweep-job.ts): the host's job scheduler is upserted at start; null schedule removes it. */
  sweep?: { schedule: string | null; run: (signal: AbortSignal | undefined) => Promise<unknown> };
  /** The service log: each pino JSON line (redacted). Without it the worker logs nothing. */
  log?: (line: string) => void;
}

export interface TasterWorker {
  readonly outbox: ReportOutbox;
  readonly runs: RunStore;
  readonly logs: RunLog;
  /** Resolves once the BullMQ worker is connected and taking jobs. */
  ready(): Promise<void>;
  /** Graceful stop: take no more jobs, bring active runs to teardown, requeue them; then close. */
  close(): Promise<void>;
}

export const DEFAULT_INFRA_RETRY: BackoffPolicy = { baseMs: 30_000, maxMs: 5 * 60_000, attempts: 3 };

export function createWorker(options: WorkerOptions): TasterWorker {
  const keys = new Keys(options.keyPrefix ?? "taster");
  const bullPrefix = options.bullPrefix ?? "bull";
  // The worker's own secrets (forge token, webhook secrets, Redis password): masked in its service
  // log, its reports and, passed to each run, in the run's log and results.
  const secrets = [...(options.secrets ?? []), ...urlCredentials(options.redisUrl)];
  const redactor = new Redactor();
  redactor.addAll(secrets);
  const log = workerLogger(redactor, options.log);
  // Commands ride out short Redis blips (queued offline, retried) instead of failing the run.
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 20 });
  redis.on("error", (error) => log.debug(reason(error), "redis"));
  const runs = new RunStore(redis, keys);
  const logs = new RunLog(redis, keys);
  const outbox = new ReportOutbox(redis, keys, bullPrefix);
  const infraRetry = options.infraRetry ?? DEFAULT_INFRA_RETRY;
  const publisher = createPublisher({
    keys,
    outbox,
    runs,
    logs,
    notes: redis,
    redactor,
    publicUrl: (options.publicUrl ?? "http://127.0.0.1:8080").replace(/\/+$/, ""),
    log,
  });
  const processor = createJobProcessor({
    keys,
    runs,
    logs,
    publisher,
    redactor,
    secrets,
    log,
    runStep: options.runStep ?? (async (opts) => (await import("@taster/harness")).runRecipe(opts)),
    infraRetry,
    ...(options.hostUrl ? { hostUrl: options.hostUrl } : {}),
    ...(options.hostOptions ? { hostOptions: options.hostOptions } : {}),
    ...(options.probeImage ? { probeImage: options.probeImage } : {}),
    dataDir: options.dataDir ?? join(process.cwd(), ".taster", "runs"),
    recipeSource: (job) => options.recipeSource?.(job) ?? job.recipe,
    cancel: (runId, why) => consumer.cancel(runId, why),
  });
  const lockDurationMs = options.lockDurationMs ?? 60_000;
  const consumer = startConsumer(
    {
      host: options.host,
      redisUrl: options.redisUrl,
      bullPrefix,
      keys,
      runs,
      capacity: options.capacity ?? 1,
      lockDurationMs,
      stalledIntervalMs: options.stalledIntervalMs ?? lockDurationMs / 2,
      infraRetry,
      log,
      ...(options.sweep ? { sweep: options.sweep.run } : {}),
    },
    processor,
  );
  if (options.sweep) {
    upsertSweepScheduler({ redis, bullPrefix, host: options.host }, options.sweep.schedule).catch((error) =>
      log.warn(reason(error), "could not schedule the sweep"),
    );
  }
  startDelivery(outbox, options, log);

  return {
    outbox,
    runs,
    logs,
    ready: () => consumer.ready(),
    async close() {
      await consumer.close();
      await outbox.close();
      await redis.quit().catch((error) => log.debug(reason(error), "redis quit"));
    },
  };
}

/** What a run of `kind` needs configured before its reports can be delivered. */
export const FORGE_VARIABLES: Record<string, string> = {
  github: "TASTER_GITHUB_TOKEN",
  gitea: "TASTER_GITEA_URL and TASTER_GITEA_TOKEN",
};

function startDelivery(outbox: ReportOutbox, options: WorkerOptions, log: Logger): void {
  const forgeFor = (kind: string): ReportPort | undefined => {
    const forge = Object.hasOwn(options.forges, kind) ? options.forges[kind as ForgeKind] : undefined;
    if (!forge) {
      // Never another forge's adapter: the report waits (retried) for a process that has this one.
      log.error(
        { forge: kind, fix: `set ${FORGE_VARIABLES[kind] ?? "that forge's variables"}` },
        `a run came from ${kind}, which this worker has no credentials for; its report is not delivered from here`,
      );
    }
    return forge;
  };
  outbox.deliver(forgeFor, {
    ...(options.reportBackoff ? { backoff: options.reportBackoff } : {}),
    onError: (runId, error, attempt) =>
      log.warn({ runId, attempt, ...reason(error) }, "report not delivered yet"),
  });
}
