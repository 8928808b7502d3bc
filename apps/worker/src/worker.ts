import { join } from "node:path";
import { errorMessage, Redactor, stackNameFor, type Tier, urlCredentials } from "@taster/core";
import type { Results, RunEvent, RunOptions } from "@taster/harness";
import {
  type BackoffPolicy,
  backoffDelay,
  Keys,
  queueNameFor,
  ReportOutbox,
  type ReportPort,
  type ReportTarget,
  type RunJob,
  RunLog,
  RunStore,
} from "@taster/queue";
import { DelayedError, type Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import { removeOrphanStack, removeOrphanWorkspace, workRootFor } from "./orphans";
import {
  type Report,
  type ReportContext,
  renderCancelled,
  renderConfigError,
  renderFinal,
  renderInfraError,
  renderRunning,
  SUMMARY_CONTEXT,
} from "./report";

/** Runs one recipe at one commit; `runRecipe` from @taster/harness in production. */
export type RunStep = (opts: RunOptions) => Promise<Results>;

export interface WorkerOptions {
  /** Host slug: the worker consumes `taster-run-<host>` only. */
  host: string;
  /** Docker host URL the runs deploy to (default $DOCKER_HOST, else the local socket). */
  hostUrl?: string;
  /** The host's probe image (TASTER_PROBE_IMAGES); unset: the harness default (the lab's). */
  probeImage?: string;
  /** Runs at once (BullMQ concurrency). Default 1. */
  capacity?: number;
  redisUrl: string;
  /** Where reports go: a GithubForge/GiteaForge (retries off: the outbox retries, durably). */
  forge: ReportPort;
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
  /** Infrastructure errors: attempts per job and backoff between them. Test failures never retry. */
  infraRetry?: BackoffPolicy;
  reportBackoff?: BackoffPolicy;
  /** BullMQ lock and stalled-check interval; short in tests so a dead worker's job is retaken fast. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Values that must never leave the worker (forge token, webhook secrets). */
  secrets?: string[];
  /** Service log (one line per notable thing); defaults to nowhere. */
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

/** Times a run may lose its worker (kill -9, OOM) and be retaken before BullMQ gives up on it. */
const MAX_STALLED_COUNT = 2;
/** BullMQ's failure reason for a job that stalled more than maxStalledCount times. */
const STALLED_TOO_OFTEN = "job stalled more than allowable limit";

export const DEFAULT_INFRA_RETRY: BackoffPolicy = { baseMs: 30_000, maxMs: 5 * 60_000, attempts: 3 };

type StopReason = { kind: "superseded"; by: string } | { kind: "shutdown" };

interface ActiveRun {
  controller: AbortController;
  stop?: StopReason;
}

export function createWorker(options: WorkerOptions): TasterWorker {
  const keys = new Keys(options.keyPrefix ?? "taster");
  const bullPrefix = options.bullPrefix ?? "bull";
  // Commands ride out short Redis blips (queued offline, retried) instead of failing the run.
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 20 });
  redis.on("error", () => {});
  const subscriber = redis.duplicate();
  subscriber.on("error", () => {});
  const runs = new RunStore(redis, keys);
  const logs = new RunLog(redis, keys);
  // The worker's own secrets (forge token, webhook secrets, Redis password): masked in its service
  // log, its reports and, passed to each run, in the run's log and results.
  const workerSecrets = [...(options.secrets ?? []), ...urlCredentials(options.redisUrl)];
  const redactor = new Redactor();
  redactor.addAll(workerSecrets);
  const outbox = new ReportOutbox(redis, keys, bullPrefix);
  const active = new Map<string, ActiveRun>();
  const activeStacks = new Set<string>();
  const say = (line: string) => options.log?.(redactor.redact(line));
  const publicUrl = (options.publicUrl ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
  const runStep: RunStep =
    options.runStep ?? (async (opts) => (await import("@taster/harness")).runRecipe(opts));

  subscriber.subscribe(keys.supersededChannel()).catch(() => {});
  subscriber.on("message", (_channel, message) => {
    try {
      const { runId, by } = JSON.parse(message) as { runId: string; by: string };
      stopRun(runId, { kind: "superseded", by });
    } catch {
      // not ours to understand
    }
  });
  // Pub/sub is lost while Redis blips: the run store is the source of truth, polled as a backstop.
  const poll = setInterval(() => {
    for (const runId of active.keys()) {
      runs
        .supersededBy(runId)
        .then((by) => by && stopRun(runId, { kind: "superseded", by }))
        .catch(() => {});
    }
  }, 2_000);
  poll.unref();

  function stopRun(runId: string, reason: StopReason): void {
    const run = active.get(runId);
    if (!run || run.stop) return;
    run.stop = reason;
    say(
      `stopping ${runId}: ${reason.kind === "superseded" ? `superseded by ${reason.by}` : "worker shutting down"}`,
    );
    run.controller.abort(reason);
  }

  const contextFor = (job: RunJob): ReportContext => ({
    runId: job.runId,
    repo: job.repo,
    pr: job.pr,
    sha: job.sha,
    recipe: job.repo.split("/")[1] ?? job.repo,
    runUrl: `${publicUrl}/runs/${job.runId}`,
    logUrl: `${publicUrl}/runs/${job.runId}/log`,
  });
  const targetOf = (job: RunJob): ReportTarget => ({
    runId: job.runId,
    forge: job.forge,
    repo: job.repo,
    pr: job.pr,
    sha: job.sha,
  });

  // One run's reports are queued strictly in the order they were made: progress published from a
  // log event must never land after the verdict that followed it.
  const publishing = new Map<string, Promise<void>>();
  function publish(
    job: RunJob,
    report: Report,
    opts: { comment?: boolean; final?: boolean } = {},
  ): Promise<void> {
    const previous = publishing.get(job.runId) ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(async () => {
        const note = await redis.get(`${keys.prefix}:report-note:${job.runId}`).catch(() => null);
        const body = note ? `${report.body}\n> ${redactor.redact(note)}\n` : report.body;
        const phase = opts.final ? "final" : "running";
        await outbox.publish(targetOf(job), { body, statuses: report.statuses }, phase, opts);
      });
    publishing.set(job.runId, next);
    void next
      .finally(() => {
        if (publishing.get(job.runId) === next) publishing.delete(job.runId);
      })
      .catch(() => {});
    return next;
  }

  /** Decides whether this job may run now; retaken jobs (stalled, requeued) get their orphan removed first. */
  async function admit(job: RunJob): Promise<"run" | "done"> {
    if (await runs.markRunning(job.runId)) return "run";
    const record = await runs.getRun(job.runId);
    if (!record) return "run"; // run record expired or written by an older bridge: the job is all we have
    if (record.state === "running" && !record.supersededBy) {
      const stack = stackOf(job);
      say(`${job.runId} was interrupted earlier (worker died or stopped): removing orphan stack ${stack}`);
      await logs.appendLog(job.runId, `worker: retaking the run; removing orphan stack ${stack} first`);
      await removeOrphanStack(options.hostUrl, stack);
      await removeOrphanWorkspace(keys.prefix, job.runId);
      return "run";
    }
    if (record.state === "superseded" || record.supersededBy) {
      await cancelled(job, record.supersededBy);
      return "done";
    }
    return "done"; // finished already (e.g. a duplicate delivery of a completed job)
  }

  async function cancelled(job: RunJob, by: string | undefined): Promise<void> {
    const newer = by ? await runs.getRun(by).catch(() => undefined) : undefined;
    const why = newer
      ? `Superseded by a newer commit \`${newer.job.sha.slice(0, 10)}\` (run \`${newer.job.runId}\`).`
      : "Superseded by a newer request for this pull request.";
    await logs.appendLog(job.runId, `worker: cancelled — ${why}`).catch(() => {});
    if (by) {
      const note = `Earlier run \`${job.runId}\` on \`${job.sha.slice(0, 10)}\` was cancelled and torn down: superseded by this commit.`;
      await redis.set(`${keys.prefix}:report-note:${by}`, note, "EX", 30 * 24 * 3600);
    }
    // The sticky comment belongs to the newest run of the PR now: only the old sha's status says why.
    await publish(job, renderCancelled(contextFor(job), why, redactor), { comment: false, final: true });
  }

  async function runWithRetries(job: RunJob, source: string, signal: AbortSignal) {
    const policy = options.infraRetry ?? DEFAULT_INFRA_RETRY;
    const ctx = contextFor(job);
    let lastTier: string | undefined = "(start)";
    const onEvent = (event: RunEvent) => {
      const line = `[+${(event.elapsedMs / 1000).toFixed(1)}s] ${event.tier ? `${event.tier} › ` : ""}${event.step}: ${event.message}`;
      logs.appendLog(job.runId, redactor.redact(line)).catch(() => {});
      if (event.tier !== lastTier) {
        lastTier = event.tier;
        const progress = {
          ...(event.tier ? { tier: event.tier as Tier } : {}),
          step: event.step,
          elapsedMs: event.elapsedMs,
          stages: job.stages,
        };
        publish(job, renderRunning(ctx, progress, redactor)).catch((e) =>
          say(`progress not queued: ${errorMessage(e)}`),
        );
      }
    };
    let results: Results | undefined;
    let attempts = 0;
    for (attempts = 1; attempts <= policy.attempts; attempts++) {
      lastTier = "(start)";
      results = await runStep({
        source,
        // The stack is named from the PR's repo (not the fetch URL), as the janitor names live runs.
        repo: job.repo,
        pr: job.pr,
        sha: job.sha,
        stages: job.stages,
        ...(options.hostUrl ? { hostUrl: options.hostUrl } : {}),
        ...(options.probeImage ? { probeImage: options.probeImage } : {}),
        outDir: join(options.dataDir ?? join(process.cwd(), ".taster", "runs"), job.runId),
        workRoot: workRootFor(keys.prefix, job.runId),
        signal,
        onEvent,
        secrets: workerSecrets,
      }).catch((error) => errorResults(job, source, errorMessage(error)));
      // A configuration error (Taster's taster.yml) is the same on every attempt.
      if (signal.aborted || results.outcome !== "error" || results.errorKind === "config") break;
      if (attempts === policy.attempts) break;
      const wait = backoffDelay(policy, attempts);
      const line = `worker: infrastructure error (${results.error ?? "unknown"}); retrying in ${(wait / 1000).toFixed(0)}s (attempt ${attempts + 1}/${policy.attempts})`;
      say(`${job.runId}: ${line}`);
      await logs.appendLog(job.runId, redactor.redact(line)).catch(() => {});
      await sleep(wait, signal);
      if (signal.aborted) break;
    }
    return { results: results as Results, attempts: Math.min(attempts, policy.attempts) };
  }

  async function processJob(bullJob: Job<RunJob>, token?: string): Promise<string> {
    const job = { ...bullJob.data, runId: bullJob.id ?? bullJob.data.runId };
    const source = options.recipeSource?.(job) ?? job.recipe;
    const stack = stackOf(job);
    if (activeStacks.has(stack)) {
      // One run per stack: the other run of this exact commit finishes first.
      await bullJob.moveToDelayed(Date.now() + 5_000, token);
      throw new DelayedError();
    }
    if ((await admit(job)) === "done") return "skipped";
    const controller = new AbortController();
    const entry: ActiveRun = { controller };
    active.set(job.runId, entry);
    activeStacks.add(stack);
    try {
      const by = await runs.supersededBy(job.runId);
      if (by) stopRun(job.runId, { kind: "superseded", by });
      say(`${job.runId}: running ${job.repo}#${job.pr} @ ${job.sha.slice(0, 10)} (${job.stages.join(",")})`);
      await publish(
        job,
        renderRunning(contextFor(job), { step: "starting", elapsedMs: 0, stages: job.stages }, redactor),
      );
      const { results, attempts } = await runWithRetries(job, source, controller.signal);
      const stop = entry.stop;
      if (stop?.kind === "shutdown") {
        // Torn down by the harness already; the run goes back to the queue for the next worker.
        await logs.appendLog(job.runId, "worker: shutting down; run torn down and requeued").catch(() => {});
        await publish(
          job,
          renderRunning(
            contextFor(job),
            { step: "requeued after a worker restart", elapsedMs: 0, stages: job.stages },
            redactor,
          ),
        );
        await bullJob.moveToDelayed(Date.now() + 1_000, token);
        throw new DelayedError();
      }
      if (stop?.kind === "superseded") {
        await runs.saveResult(job.runId, results, "cancelled");
        await cancelled(job, stop.by);
        return "cancelled";
      }
      // Results are stored before anything is posted: a forge outage can delay the report, never lose it.
      // A Redis blip here must not lose a finished run either: keep trying for a while.
      const ctx = contextFor(job);
      const report =
        results.errorKind === "config"
          ? renderConfigError(ctx, results, redactor)
          : results.outcome === "error"
            ? infraReport(ctx, results, attempts)
            : renderFinal(ctx, results, redactor);
      await untilRedisAnswers(`storing the result of ${job.runId}`, async () => {
        await runs.saveResult(job.runId, results, results.outcome === "pass" ? "done" : "failed");
        await publish(job, report, { final: true });
      });
      say(`${job.runId}: ${results.outcome} L${results.level}`);
      return results.outcome;
    } finally {
      active.delete(job.runId);
      activeStacks.delete(stack);
      await removeOrphanWorkspace(keys.prefix, job.runId).catch(() => {});
    }
  }

  function infraReport(ctx: ReportContext, results: Results, attempts: number): Report {
    const report = renderInfraError(ctx, { what: results.error ?? "unknown error", attempts }, redactor);
    const final = renderFinal(ctx, results, redactor);
    // Keep the per-tier statuses (what did run), with the summary saying it was the infrastructure.
    return {
      body: report.body,
      statuses: [...final.statuses.filter((s) => s.context !== SUMMARY_CONTEXT), ...report.statuses],
    };
  }

  /**
   * A job BullMQ failed without our processor finishing it: above all one that lost its worker more
   * than MAX_STALLED_COUNT times (BullMQ fails it on the next pickup, never calling processJob).
   * Its run would stay "running" forever with its last stack deployed: tear that down and end the
   * run with an infrastructure error that says why.
   */
  async function concludeAbandoned(bullJob: Job<RunJob>, error: Error): Promise<void> {
    const job = { ...bullJob.data, runId: bullJob.id ?? bullJob.data.runId };
    const record = await runs.getRun(job.runId);
    if (record && record.state !== "running") return; // it ended (or never started): nothing to conclude
    const what =
      error.message === STALLED_TOO_OFTEN
        ? `the run kept losing its worker (killed or stalled ${MAX_STALLED_COUNT + 1} times); not retried again`
        : `the worker gave up on the run: ${errorMessage(error)}`;
    say(`${job.runId}: ${what}; removing its stack`);
    await logs.appendLog(job.runId, `worker: ${what}; removing stack ${stackOf(job)}`).catch(() => {});
    await removeOrphanWorkspace(keys.prefix, job.runId).catch(() => {});
    const residue = await removeOrphanStack(options.hostUrl, stackOf(job)).catch((e) => [
      `teardown failed: ${errorMessage(e)}`,
    ]);
    const results = errorResults(job, options.recipeSource?.(job) ?? job.recipe, what);
    results.residue = residue;
    results.flags.cleanTeardown = residue.length === 0;
    if (record?.supersededBy) {
      await runs.saveResult(job.runId, results, "cancelled");
      return cancelled(job, record.supersededBy);
    }
    const attempts = record ? MAX_STALLED_COUNT + 1 : 1;
    await untilRedisAnswers(`concluding ${job.runId}`, async () => {
      await runs.saveResult(job.runId, results, "failed");
      await publish(job, infraReport(contextFor(job), results, attempts), { final: true });
    });
  }

  const lockDuration = options.lockDurationMs ?? 60_000;
  const workerConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  workerConnection.on("error", () => {});
  const worker = new Worker<RunJob>(queueNameFor(options.host), processJob, {
    connection: workerConnection,
    prefix: bullPrefix,
    concurrency: options.capacity ?? 1,
    lockDuration,
    stalledInterval: options.stalledIntervalMs ?? lockDuration / 2,
    maxStalledCount: MAX_STALLED_COUNT,
  });
  worker.on("error", (error) => say(`queue: ${errorMessage(error)}`));
  worker.on("failed", (job, error) => {
    if (!job || error.name === "DelayedError") return;
    say(`${job.id}: job failed: ${errorMessage(error)}`);
    concludeAbandoned(job, error).catch((e) => say(`${job.id}: could not conclude: ${errorMessage(e)}`));
  });
  outbox.deliver(() => options.forge, {
    ...(options.reportBackoff ? { backoff: options.reportBackoff } : {}),
    onError: (runId, error, attempt) =>
      say(`report of ${runId} not delivered yet (attempt ${attempt}): ${errorMessage(error)}`),
  });

  return {
    outbox,
    runs,
    logs,
    ready: () => worker.waitUntilReady().then(() => undefined),
    async close() {
      const closing = worker.close();
      for (const runId of active.keys()) stopRun(runId, { kind: "shutdown" });
      await closing.catch(() => {});
      clearInterval(poll);
      await outbox.close();
      subscriber.disconnect();
      workerConnection.disconnect();
      await redis.quit().catch(() => {});
    },
  };
}

/** Retries a Redis step through an outage (≈ 10 min of capped backoff) before giving up. */
async function untilRedisAnswers(what: string, step: () => Promise<void>): Promise<void> {
  const policy: BackoffPolicy = { baseMs: 500, maxMs: 30_000, attempts: 30 };
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= policy.attempts) throw new Error(`${what}: Redis kept failing: ${errorMessage(error)}`);
      await new Promise((r) => setTimeout(r, backoffDelay(policy, attempt)));
    }
  }
}

/** The job's stack, named exactly as the harness (given `repo`) and the janitor name it. */
export function stackOf(job: Pick<RunJob, "repo" | "pr" | "sha">): string {
  return stackNameFor({ repo: job.repo, pr: job.pr, sha: job.sha });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A run step that threw (bad options, a bug) still ends with a verdict a maintainer can read. */
function errorResults(job: RunJob, source: string, message: string): Results {
  const empty = { hookMs: 0, opMs: 0, assertMs: 0, totalMs: 0 };
  const skipped = { status: "skip" as const, reason: `not run: ${message}`, tests: [], timings: empty };
  const now = new Date().toISOString();
  return {
    schemaVersion: 1,
    recipe: job.repo.split("/")[1] ?? job.repo,
    repo: source,
    pr: job.pr,
    sha: job.sha,
    stack: "",
    domain: "",
    host: "",
    level: 0,
    outcome: "error",
    error: message,
    versions: { base: null, head: "", baseReason: "" },
    tiers: { install: skipped, upgrade: skipped, backup: skipped, restore: skipped, custom: skipped },
    timings: { startedAt: now, finishedAt: now, totalMs: 0, deployMs: 0, teardownMs: 0 },
    manifest: null,
    backup: null,
    residue: [],
    flags: { deployCount: 0, upgradeRedeploys: 0, cleanTeardown: true, noSecretLeak: true },
  };
}
