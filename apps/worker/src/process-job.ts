/**
 * One job: claim the run, run it (one attempt), record and report the result. Retries, delays
 * and cancellation are BullMQ's: a retryable infrastructure error is thrown as `InfraRetry` (the
 * consumer's backoff strategy reads its delay), an error that must not retry as
 * `UnrecoverableError`, and the run stops when the processor's abort `signal` fires.
 */
import { join } from "node:path";
import { errorMessage, type Redactor, TasterError, type Tier } from "@taster/core";
import type { Results, RunEvent, RunOptions } from "@taster/harness";
import {
  type BackoffPolicy,
  backoffDelay,
  type Keys,
  type RunJob,
  type RunLog,
  type RunStore,
  retry,
} from "@taster/queue";
import type { ConnectOptions } from "@taster/swarm";
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import { type Logger, reason } from "./log";
import { removeOrphanStack, removeOrphanWorkspace, workRootFor } from "./orphans";
import type { Publisher } from "./publisher";
import { errorResults, jobOf, residueAsError, stackOf } from "./results";
import { stopOf, stopReason } from "./stop";

/** Runs one recipe at one commit; `runRecipe` from @taster/harness in production. */
export type RunStep = (opts: RunOptions) => Promise<Results>;

/** Times a run may lose its worker (kill -9, OOM) and be retaken before BullMQ gives up on it. */
export const MAX_STALLED_COUNT = 2;
/** BullMQ's failure reason for a job that stalled more than maxStalledCount times. */
const STALLED_TOO_OFTEN = "job stalled more than allowable limit";

/** A retryable infrastructure error; `delayMs` is the wait before the next attempt (already logged). */
export class InfraRetry extends Error {
  override name = "InfraRetry";
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

export interface ProcessDeps {
  keys: Keys;
  runs: RunStore;
  logs: RunLog;
  publisher: Publisher;
  redactor: Redactor;
  /** Passed to each run, masked in its log and results. */
  secrets: string[];
  log: Logger;
  runStep: RunStep;
  infraRetry: BackoffPolicy;
  hostUrl?: string;
  hostOptions?: ConnectOptions;
  probeImage?: string;
  dataDir: string;
  recipeSource: (job: RunJob) => string;
  /** Cancels a run this worker is running (BullMQ `cancelJob`); false when it runs elsewhere. */
  cancel(runId: string, why: string): boolean;
}

export interface JobProcessor {
  /** BullMQ's processor: three parameters, so BullMQ hands it the abort signal. */
  process(bullJob: Job<RunJob>, token: string | undefined, signal: AbortSignal | undefined): Promise<string>;
  /** A job BullMQ failed without the processor finishing it (stalled too often): end its run. */
  concludeAbandoned(bullJob: Job<RunJob>, error: Error): Promise<void>;
}

export function createJobProcessor(deps: ProcessDeps): JobProcessor {
  const { runs, logs, publisher, log } = deps;
  // One run per stack: the other run of this exact commit finishes first.
  const activeStacks = new Set<string>();
  const logLine = (runId: string, line: string) =>
    logs
      .appendLog(runId, deps.redactor.redact(line))
      .catch((error) => log.debug({ runId, ...reason(error) }, "run log line lost"));

  /** Whether this job may run now; a retaken or retried run gets what it left behind removed first. */
  async function admit(job: RunJob, attempt: number, attempts: number): Promise<"run" | "done"> {
    if (await runs.markRunning(job.runId)) return "run";
    const record = await runs.getRun(job.runId);
    if (!record) return "run"; // run record expired or written by an older bridge: the job is all we have
    const superseded = record.state === "superseded" || record.supersededBy !== undefined;
    if (record.state === "running") {
      const stack = stackOf(job);
      const why =
        attempt > 1
          ? `retrying the run (attempt ${attempt}/${attempts}); removing any stack ${stack} the last attempt left`
          : `retaking the run; removing orphan stack ${stack} first`;
      log.info({ runId: job.runId, stack, attempt }, why);
      await logLine(job.runId, `worker: ${why}`);
      await removeOrphanStack(deps.hostUrl, stack, deps.hostOptions);
      await removeOrphanWorkspace(deps.keys.prefix, job.runId);
      if (!superseded) return "run";
      // Superseded while it waited for its retry (or while its worker was dead): end it as cancelled.
      await runs.saveResult(job.runId, errorResults(job, sourceOf(job), "superseded"), "cancelled");
    }
    if (superseded) await publisher.cancelled(job, record.supersededBy);
    return "done"; // superseded, or finished already (e.g. a duplicate delivery of a completed job)
  }

  /** The recipe's source for a results file; a name the source refuses is shown as the repo. */
  const sourceOf = (job: RunJob): string => {
    try {
      return deps.recipeSource(job);
    } catch {
      return job.repo;
    }
  };

  /**
   * Publishes the verdict when the tiers end, before teardown (the run's onVerdict). Not for an
   * infrastructure error (it may be retried) nor a stopped run. Returns whether it was published.
   */
  function earlyVerdict(job: RunJob, signal: AbortSignal, attempt: number) {
    const state = { published: false };
    const onVerdict = (results: Results) => {
      if (stopOf(signal) || results.outcome === "error") return;
      state.published = true;
      // Not awaited: the publisher keeps this run's reports in order, and teardown must not wait on Redis.
      publisher
        .verdict(job, results, attempt, { teardownPending: true })
        .catch((error) => log.warn({ runId: job.runId, ...reason(error) }, "early verdict not queued"));
    };
    return { onVerdict, state };
  }

  function runOnce(
    job: RunJob,
    signal: AbortSignal,
    onVerdict: (results: Results) => void,
  ): Promise<Results> {
    let source: string;
    try {
      source = deps.recipeSource(job);
    } catch (error) {
      // A hostile repo name or a forge this worker is not configured for: the same on every attempt.
      const results = errorResults(job, job.repo, errorMessage(error));
      results.errorKind = error instanceof TasterError && error.kind === "usage" ? "usage" : "config";
      return Promise.resolve(results);
    }
    let lastTier: string | undefined = "(start)";
    const onEvent = (event: RunEvent) => {
      const line = `[+${(event.elapsedMs / 1000).toFixed(1)}s] ${event.tier ? `${event.tier} › ` : ""}${event.step}: ${event.message}`;
      void logLine(job.runId, line);
      if (event.tier === lastTier) return;
      lastTier = event.tier;
      const progress = {
        ...(event.tier ? { tier: event.tier as Tier } : {}),
        step: event.step,
        elapsedMs: event.elapsedMs,
        stages: job.stages,
      };
      publisher
        .progress(job, progress)
        .catch((error) => log.warn({ runId: job.runId, ...reason(error) }, "progress not queued"));
      // A cancellation announced while this worker's subscription was down is noticed here.
      runs
        .supersededBy(job.runId)
        .then((by) => by && deps.cancel(job.runId, stopReason.supersededBy(by)))
        .catch((error) => log.debug({ runId: job.runId, ...reason(error) }, "supersede check failed"));
    };
    return deps
      .runStep({
        source,
        // The stack is named from the PR's repo (not the fetch URL), as the janitor names live runs.
        repo: job.repo,
        pr: job.pr,
        sha: job.sha,
        stages: job.stages,
        ...(deps.hostUrl ? { hostUrl: deps.hostUrl } : {}),
        ...(deps.hostOptions ? { hostOptions: deps.hostOptions } : {}),
        ...(deps.probeImage ? { probeImage: deps.probeImage } : {}),
        outDir: join(deps.dataDir, job.runId),
        workRoot: workRootFor(deps.keys.prefix, job.runId),
        signal,
        onEvent,
        onVerdict,
        ...(job.recheckOf ? { recheckOf: job.recheckOf } : {}),
        ...(job.quick ? { warm: { fromKnownGood: true } } : {}),
        secrets: deps.secrets,
      })
      .catch((error) => errorResults(job, source, errorMessage(error)));
  }

  /** Results are stored before anything is posted: a forge outage can delay the report, never lose it. */
  async function conclude(job: RunJob, results: Results, attempts: number): Promise<void> {
    await untilRedisAnswers(`storing the result of ${job.runId}`, log, async () => {
      await runs.saveResult(job.runId, results, results.outcome === "pass" ? "done" : "failed");
      await publisher.verdict(job, results, attempts);
    });
  }

  async function process(bullJob: Job<RunJob>, token: string | undefined, signal: AbortSignal | undefined) {
    const job = jobOf(bullJob);
    const stack = stackOf(job);
    if (activeStacks.has(stack)) {
      await bullJob.moveToDelayed(Date.now() + 5_000, token);
      throw new DelayedError();
    }
    const attempt = bullJob.attemptsMade + 1;
    const attempts = Math.min(bullJob.opts.attempts ?? 1, deps.infraRetry.attempts);
    if ((await admit(job, attempt, attempts)) === "done") return "skipped";
    activeStacks.add(stack);
    const stopped = signal ?? new AbortController().signal;
    try {
      const by = await runs.supersededBy(job.runId);
      if (by) deps.cancel(job.runId, stopReason.supersededBy(by));
      log.info(
        { runId: job.runId, repo: job.repo, pr: job.pr, sha: job.sha, stages: job.stages, attempt, attempts },
        "running",
      );
      const step = attempt > 1 ? `retrying (attempt ${attempt}/${attempts})` : "starting";
      await publisher.progress(job, { step, elapsedMs: 0, stages: job.stages });
      const early = earlyVerdict(job, stopped, attempt);
      const ran = await runOnce(job, stopped, early.onVerdict);
      // Once the verdict is out the run is complete: a stop during teardown changes nothing of it.
      const stop = early.state.published ? undefined : stopOf(stopped);
      if (stop?.kind === "shutdown") {
        // Torn down by the harness already; the run goes back to the queue for the next worker.
        await logLine(job.runId, "worker: shutting down; run torn down and requeued");
        await publisher.progress(job, {
          step: "requeued after a worker restart",
          elapsedMs: 0,
          stages: job.stages,
        });
        await bullJob.moveToDelayed(Date.now() + 1_000, token);
        throw new DelayedError();
      }
      if (stop?.kind === "superseded") {
        await runs.saveResult(job.runId, ran, "cancelled");
        await publisher.cancelled(job, stop.by);
        return "cancelled";
      }
      // Only the infrastructure is worth another attempt; a config or usage error is the same every time.
      const infra = ran.outcome === "error" && (ran.errorKind ?? "infra") === "infra";
      if (infra && attempt < attempts) {
        const wait = backoffDelay(deps.infraRetry, attempt);
        const line = `worker: infrastructure error (${ran.error ?? "unknown"}); retrying in ${(wait / 1000).toFixed(0)}s (attempt ${attempt + 1}/${attempts})`;
        log.warn({ runId: job.runId, attempt, attempts, waitMs: wait }, line);
        await logLine(job.runId, line);
        throw new InfraRetry(ran.error ?? "unknown infrastructure error", wait);
      }
      // The tests are done: residue now amends the verdict to an infrastructure error (not retried).
      const results = residueAsError(ran);
      if (results !== ran)
        await logLine(job.runId, `worker: ${results.error}; reported as an infrastructure error`);
      await conclude(job, results, attempt);
      log.info({ runId: job.runId, outcome: results.outcome, level: results.level }, "finished");
      // Reported in full already; BullMQ must not try these again.
      if (results.outcome === "error")
        throw new UnrecoverableError(
          `${results.errorKind ?? "infra"} error after ${attempt} attempt(s): ${results.error}`,
        );
      return results.outcome;
    } finally {
      activeStacks.delete(stack);
      await removeOrphanWorkspace(deps.keys.prefix, job.runId).catch((error) =>
        log.debug({ runId: job.runId, ...reason(error) }, "workspace not removed"),
      );
    }
  }

  /**
   * Above all a job that lost its worker more than MAX_STALLED_COUNT times (BullMQ fails it on the
   * next pickup, never calling the processor). Its run would stay "running" forever with its last
   * stack deployed: tear that down and end the run with an infrastructure error that says why.
   */
  async function concludeAbandoned(bullJob: Job<RunJob>, error: Error): Promise<void> {
    const job = jobOf(bullJob);
    const record = await runs.getRun(job.runId);
    if (record && record.state !== "running") return; // it ended (or never started): nothing to conclude
    const what =
      error.message === STALLED_TOO_OFTEN
        ? `the run kept losing its worker (killed or stalled ${MAX_STALLED_COUNT + 1} times); not retried again`
        : `the worker gave up on the run: ${errorMessage(error)}`;
    log.warn({ runId: job.runId, stack: stackOf(job) }, `${what}; removing its stack`);
    await logLine(job.runId, `worker: ${what}; removing stack ${stackOf(job)}`);
    await removeOrphanWorkspace(deps.keys.prefix, job.runId).catch((e) =>
      log.debug({ runId: job.runId, ...reason(e) }, "workspace not removed"),
    );
    const residue = await removeOrphanStack(deps.hostUrl, stackOf(job), deps.hostOptions).catch((e) => [
      `teardown failed: ${errorMessage(e)}`,
    ]);
    const results = errorResults(job, sourceOf(job), what);
    results.residue = residue;
    results.flags.cleanTeardown = residue.length === 0;
    if (record?.supersededBy) {
      await runs.saveResult(job.runId, results, "cancelled");
      return publisher.cancelled(job, record.supersededBy);
    }
    await conclude(job, results, record ? MAX_STALLED_COUNT + 1 : 1);
  }

  return { process, concludeAbandoned };
}

/** Retries a Redis step through an outage (≈ 10 min of capped backoff) before giving up. */
function untilRedisAnswers(what: string, log: Logger, step: () => Promise<void>): Promise<void> {
  return retry(step, {
    attempts: 30,
    minMs: 500,
    maxMs: 30_000,
    onRetry: (error, attempt) => log.warn({ attempt, ...reason(error) }, `${what}: Redis failed; retrying`),
  }).catch((error) => {
    throw new Error(`${what}: Redis kept failing: ${errorMessage(error)}`);
  });
}
