/**
 * The BullMQ side of the worker: the Worker on the host's queue, its retries (job `attempts` with
 * this worker's backoff), cancellation (`cancelJob` when the bridge announces that a newer sha
 * superseded a run) and its lifecycle (ready, graceful close).
 */
import {
  type BackoffPolicy,
  backoffDelay,
  type Keys,
  queueNameFor,
  type RunJob,
  type RunStore,
  SWEEP_JOB_NAME,
} from "@taster/queue";
import { DelayedError, type Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import { type Logger, reason } from "./log";
import { type JobProcessor, MAX_STALLED_COUNT } from "./process-job";
import { describeStop, stopReason } from "./stop";

export interface ConsumerOptions {
  host: string;
  redisUrl: string;
  bullPrefix: string;
  keys: Keys;
  runs: RunStore;
  capacity: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  infraRetry: BackoffPolicy;
  log: Logger;
  /** Runs a scheduled sweep (a `sweep` job on this host's queue, see sweep-job.ts); unset: sweep jobs are skipped. */
  sweep?: (signal: AbortSignal | undefined) => Promise<unknown>;
}

export interface Consumer {
  /** Cancels a run this worker is running (its processor's signal fires); false if it is not here. */
  cancel(runId: string, why: string): boolean;
  ready(): Promise<void>;
  /** Takes no more jobs, stops the active runs (they tear down and requeue), then closes. */
  close(): Promise<void>;
}

export function startConsumer(options: ConsumerOptions, processor: JobProcessor): Consumer {
  const { log } = options;
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  connection.on("error", (error) => log.debug(reason(error), "queue connection"));
  // Runs in this process now; the cancellation listener only acts on these.
  const running = new Set<string>();

  const worker = new Worker<RunJob>(
    queueNameFor(options.host),
    // Three parameters: BullMQ passes the abort signal only to a processor that declares it.
    async (job: Job<RunJob>, token: string | undefined, signal: AbortSignal | undefined) => {
      if (job.name === SWEEP_JOB_NAME) return runSweepJob(job, token, signal);
      const runId = job.id ?? job.data.runId;
      running.add(runId);
      try {
        return await processor.process(job, token, signal);
      } finally {
        running.delete(runId);
      }
    },
    {
      connection,
      prefix: options.bullPrefix,
      concurrency: options.capacity,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount: MAX_STALLED_COUNT,
      settings: {
        // The processor computed (and logged) the wait of an InfraRetry; anything else thrown is backed off here.
        backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) =>
          (error as { delayMs?: number } | undefined)?.delayMs ??
          backoffDelay(options.infraRetry, attemptsMade),
      },
    },
  );
  worker.on("error", (error) => log.warn(reason(error), "queue"));
  worker.on("failed", (job, error) => {
    // No finishedOn: BullMQ retries it (an InfraRetry, or a Redis error before the run started).
    if (!job?.finishedOn || error.name === "DelayedError") return;
    // A sweep is no PR run: nothing to conclude on a forge; the next schedule tries again.
    if (job.name === SWEEP_JOB_NAME) return log.warn(reason(error), "sweep failed");
    log.debug({ runId: job.id, ...reason(error) }, "job failed");
    processor
      .concludeAbandoned(job, error)
      .catch((e) => log.error({ runId: job.id, ...reason(e) }, "could not conclude the run"));
  });

  // A sweep holds one capacity slot like a run; it was queued behind PR runs by its priority.
  async function runSweepJob(
    job: Job,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (!options.sweep) return log.info("sweep job skipped: this worker has no sweep configured");
    log.info("sweep: starting");
    await options.sweep(signal);
    if (signal?.aborted) {
      // Stopped by a shutdown (its run torn down): the sweep goes back to the queue, as a run does.
      log.info("sweep: stopped by the shutdown; requeued");
      await job.moveToDelayed(Date.now() + 1_000, token);
      throw new DelayedError();
    }
    log.info("sweep: done");
  }

  function cancel(runId: string, why: string): boolean {
    if (!running.has(runId) || !worker.cancelJob(runId, why)) return false;
    log.info({ runId }, `stopping: ${describeStop(why)}`);
    return true;
  }

  // The bridge announces a supersede on a channel; a run of ours stops at once.
  const subscriber = connection.duplicate();
  subscriber.on("error", (error) => log.debug(reason(error), "supersede subscription"));
  subscriber.on("message", (_channel, message) => {
    const parsed = parseSuperseded(message);
    if (parsed) cancel(parsed.runId, stopReason.supersededBy(parsed.by));
    else log.debug({ message }, "not a supersede announcement; ignored");
  });
  // Announcements made while the subscription was down are lost: after each (re)connect the run
  // store, which has the final word, is asked about every run here.
  subscriber.on("ready", () => {
    for (const runId of running) {
      options.runs
        .supersededBy(runId)
        .then((by) => by && cancel(runId, stopReason.supersededBy(by)))
        .catch((error) => log.debug({ runId, ...reason(error) }, "supersede check failed"));
    }
  });
  subscriber
    .subscribe(options.keys.supersededChannel())
    .catch((error) => log.warn(reason(error), "supersede subscription failed; runs stop at their next tier"));

  return {
    cancel,
    ready: () => worker.waitUntilReady().then(() => undefined),
    async close() {
      const closing = worker.close();
      if (running.size > 0) log.info({ runs: [...running] }, "stopping: worker shutting down");
      worker.cancelAllJobs(stopReason.shutdown);
      await closing.catch((error) => log.warn(reason(error), "closing the queue worker"));
      subscriber.disconnect();
      connection.disconnect();
    },
  };
}

function parseSuperseded(message: string): { runId: string; by: string } | undefined {
  try {
    const value = JSON.parse(message) as { runId?: unknown; by?: unknown };
    return typeof value.runId === "string" && typeof value.by === "string"
      ? { runId: value.runId, by: value.by }
      : undefined;
  } catch {
    return undefined; // not JSON: the listener logs it as not an announcement
  }
}
