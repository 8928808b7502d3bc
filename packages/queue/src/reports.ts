/**
 * The one way Taster tells a forge about a run: the bridge's "queued", the worker's progress and
 * verdict all go through here, so they reach the PR in the order that matters, not the order the
 * network happened to deliver them.
 *
 * Publishing records the *desired* state in Redis and queues a delivery job:
 * - the PR's sticky comment is desired per PR and ranked by (run age, phase): a late "queued" never
 *   replaces "running", progress never replaces a verdict, an older run never replaces a newer one;
 * - commit statuses are desired per run, merged by context, and never go back a phase.
 * Delivery (BullMQ, retried with capped backoff that outlives restarts) posts whatever is desired
 * and not yet posted, under a per-PR Redis lock so two processes never create two comments.
 */
import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { CommitStatus } from "@taster/contracts";
import { errorMessage, retry } from "@taster/core";
import { type Job, type Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { type BackoffPolicy, backoffDelay } from "./backoff";
import { commandsOf } from "./commands";
import type { Keys } from "./keys";
import { queueLog } from "./log";
import { QueueHandle } from "./queue-handle";

export const REPORT_QUEUE = "taster-report";

/** One commit status line (the one definition is in @taster/contracts). */
export type ReportStatus = CommitStatus;

/** What a run wants the PR to show. */
export interface RunReport {
  /** The sticky comment's body (the forge adapter adds the hidden marker). */
  body: string;
  statuses: ReportStatus[];
}

/** queued (bridge) < running (worker) < final (verdict or cancellation). */
/** `verdict`: published before teardown, amended by the `final` report after it (not "final" for drained()). */
export type ReportPhase = "queued" | "running" | "verdict" | "final";
const PHASE_RANK: Record<ReportPhase, number> = { queued: 0, running: 1, verdict: 1.5, final: 2 };

export interface ReportTarget {
  runId: string;
  forge: string;
  repo: string;
  pr: number;
  sha: string;
}

/** The two forge writes reporting needs; `Forge` from @taster/forge provides both. */
export interface ReportPort {
  /** Creates or edits in place Taster's one status comment on the PR. */
  upsertStickyComment(repo: string, pr: number, body: string): Promise<unknown>;
  /**
   * Shows one status of the run on its commit, the forge's way (a commit status, or a GitHub check
   * run); `previous` is what this returned last time for the context (e.g. the check run's id),
   * kept here so the same line is updated in place rather than created again.
   */
  publishStatus(
    ref: { repo: string; sha: string; runId: string },
    status: ReportStatus,
    previous?: string,
  ): Promise<string | undefined>;
}

/** Production: 2 s doubling to 5 min, 60 attempts ≈ 4.5 hours of forge outage survived. */
export const DEFAULT_REPORT_BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 5 * 60_000, attempts: 60 };

const TTL_SEC = 30 * 24 * 3600;

const LOCK_TTL_MS = 10_000;
const LOCK_WAIT_MS = 45_000;

export interface DeliveryOptions {
  backoff?: BackoffPolicy;
  onError?: (runId: string, error: unknown, attempt: number) => void;
}

interface DeliveryJob {
  runId: string;
}

export class ReportOutbox {
  private readonly bullQueue: QueueHandle<DeliveryJob>;
  private worker: Worker<DeliveryJob> | undefined;
  private workerConnection: Redis | undefined;
  private backoff: BackoffPolicy = DEFAULT_REPORT_BACKOFF;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly bullPrefix: string,
  ) {
    this.bullQueue = new QueueHandle<DeliveryJob>(REPORT_QUEUE, { connection: redis, prefix: bullPrefix });
  }

  /** The BullMQ queue as it is now (for counts and inspection; see QueueHandle). */
  get queue(): Queue<DeliveryJob> {
    return this.bullQueue.now;
  }

  private runKey = (runId: string) => `${this.keys.prefix}:report:${runId}`;
  private pullKey = (t: ReportTarget) => `${this.keys.prefix}:report-pr:${t.forge}:${t.repo}#${t.pr}`;

  /**
   * Records what the run wants the PR to show, then queues its delivery; resolves once both are in
   * Redis. `comment: false` = statuses only (e.g. a cancelled run: the comment is its successor's).
   */
  async publish(
    target: ReportTarget,
    report: RunReport,
    phase: ReportPhase,
    opts: { comment?: boolean } = {},
  ): Promise<void> {
    const seq = Number(
      await commandsOf(this.redis).publishReport(
        this.runKey(target.runId),
        this.pullKey(target),
        this.keys.run(target.runId),
        String(PHASE_RANK[phase]),
        report.body,
        opts.comment === false ? "0" : "1",
        JSON.stringify(report.statuses),
        target.forge,
        target.repo,
        String(target.pr),
        target.sha,
        target.runId,
        String(TTL_SEC),
      ),
    );
    if (seq === 0) return;
    const queue = await this.bullQueue.ready();
    await queue.add(
      "report",
      { runId: target.runId },
      {
        jobId: `report-${target.runId}-${seq}`,
        attempts: this.backoff.attempts,
        backoff: { type: "capped" },
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: TTL_SEC },
      },
    );
  }

  /**
   * Starts posting reports with the forge adapter of each report's kind. Runs in every process
   * that has forge credentials; the per-PR lock keeps them from racing each other.
   */
  deliver(forgeFor: (kind: string) => ReportPort | undefined, options: DeliveryOptions = {}): void {
    if (this.worker) return;
    if (options.backoff) this.backoff = options.backoff;
    const backoff = this.backoff;
    this.workerConnection = this.redis.duplicate({ maxRetriesPerRequest: null });
    // Failures surface on the jobs that hit them (and through onError); the event only needs a listener.
    this.workerConnection.on("error", (error) =>
      queueLog.debug({ reason: errorMessage(error) }, "report worker connection"),
    );
    this.worker = new Worker<DeliveryJob>(REPORT_QUEUE, (job) => this.post(job, forgeFor), {
      connection: this.workerConnection,
      prefix: this.bullPrefix,
      // Several PRs at once; one PR's posts are serialised by its lock, and every post sends the
      // latest desired state, so order between jobs does not matter.
      concurrency: 4,
      settings: { backoffStrategy: (attemptsMade) => backoffDelay(backoff, attemptsMade) },
    });
    this.worker.on("error", (error) => queueLog.debug({ reason: errorMessage(error) }, "report worker"));
    this.worker.on("failed", (job, error) => {
      if (job) options.onError?.(job.data.runId, error, job.attemptsMade);
    });
  }

  /** How far the run's reports got: published (seq), acknowledged by the forge (postedSeq), final. */
  async delivered(
    runId: string,
  ): Promise<{ pending: boolean; postedSeq: number; seq: number; final: boolean }> {
    const [seq, postedSeq, phase] = await this.redis.hmget(this.runKey(runId), "seq", "postedSeq", "phase");
    return {
      seq: Number(seq ?? 0),
      postedSeq: Number(postedSeq ?? 0),
      pending: Number(seq ?? 0) > Number(postedSeq ?? 0),
      final: Number(phase ?? -1) === PHASE_RANK.final,
    };
  }

  /**
   * Resolves true once the run's verdict (its final report) has been published and everything
   * published reached the forge — or, with `verdict: false`, whatever is published so far. The
   * verdict is published just after the run's state turns final: waiting on the state alone races it.
   */
  async drained(runId: string, timeoutMs: number, opts: { verdict?: boolean } = {}): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const d = await this.delivered(runId);
      if (!d.pending && (d.final || opts.verdict === false)) return true;
      await sleep(100);
    }
    return false;
  }

  async close(): Promise<void> {
    await this.worker
      ?.close()
      .catch((error) => queueLog.debug({ reason: errorMessage(error) }, "closing the report worker"));
    await this.bullQueue.close();
    this.workerConnection?.disconnect();
  }

  private async post(job: Job<DeliveryJob>, forgeFor: (kind: string) => ReportPort | undefined) {
    const runKey = this.runKey(job.data.runId);
    const run = await this.redis.hgetall(runKey);
    if (!run.seq || !run.pull || !run.repo || !run.sha) return;
    const seq = Number(run.seq);
    if (Number(run.postedSeq ?? 0) >= seq) return;
    const forge = forgeFor(run.forge ?? "");
    if (!forge) throw new Error(`no ${run.forge} forge is configured to report ${job.data.runId} to`);
    try {
      await this.underLock(run.pull, async () => {
        await this.postComment(run.pull as string, forge);
        await this.postStatuses(job.data.runId, forge);
      });
      // Only what was read is acknowledged; a publish that raced in keeps its own job pending.
      await commandsOf(this.redis).ackReport(runKey, String(seq));
    } catch (error) {
      throw new Error(`posting the report of ${job.data.runId} failed: ${errorMessage(error)}`);
    }
  }

  /** The PR's desired comment, whichever run it belongs to now; never an older one. */
  private async postComment(pullKey: string, forge: ReportPort): Promise<void> {
    const pull = await this.redis.hgetall(pullKey);
    if (pull.body === undefined || pull.body === pull.postedBody || !pull.repo) return;
    await forge.upsertStickyComment(pull.repo, Number(pull.pr), pull.body);
    await this.redis.hset(pullKey, "postedBody", pull.body);
  }

  private async postStatuses(runId: string, forge: ReportPort): Promise<void> {
    const runKey = this.runKey(runId);
    const [repo, sha, statusesJson, postedJson, handlesJson] = await this.redis.hmget(
      runKey,
      "repo",
      "sha",
      "statuses",
      "postedStatuses",
      "statusHandles",
    );
    if (!repo || !sha) return;
    const desired = JSON.parse(statusesJson ?? "{}") as Record<string, ReportStatus>;
    const posted = JSON.parse(postedJson ?? "{}") as Record<string, string>;
    // What the forge handed back per context (a check run's id): the next post updates that one.
    const handles = JSON.parse(handlesJson ?? "{}") as Record<string, string>;
    for (const status of Object.values(desired)) {
      const fingerprint = `${status.state}|${status.description}|${fingerprintOf(status.output)}`;
      if (posted[status.context] === fingerprint) continue;
      const handle = await forge.publishStatus({ repo, sha, runId }, status, handles[status.context]);
      posted[status.context] = fingerprint;
      if (handle !== undefined) handles[status.context] = handle;
      await this.redis.hset(
        runKey,
        "postedStatuses",
        JSON.stringify(posted),
        "statusHandles",
        JSON.stringify(handles),
      );
    }
  }

  /**
   * One poster per PR across every process. The lock is short and renewed while the work runs, so a
   * process that dies holding it (kill -9) blocks the PR's reports for seconds, not minutes. A job
   * waits its turn (one post takes seconds under GitHub's pacing); past the wait it fails and is
   * retried later, never skipped.
   */
  private async underLock(pullKey: string, work: () => Promise<void>): Promise<void> {
    const lockKey = `${pullKey}:lock`;
    const token = randomBytes(8).toString("hex");
    const commands = commandsOf(this.redis);
    await retry(
      async () => {
        if ((await this.redis.set(lockKey, token, "PX", LOCK_TTL_MS, "NX")) !== "OK") throw new LockBusy();
      },
      { minMs: 50, maxMs: 50, maxTotalMs: LOCK_WAIT_MS, retryIf: (error) => error instanceof LockBusy },
    ).catch((error) => {
      throw error instanceof LockBusy
        ? new Error("another process kept posting to this pull request")
        : error;
    });
    const renew = setInterval(() => {
      commands
        .extendLock(lockKey, token, String(LOCK_TTL_MS))
        .catch((error) => queueLog.debug({ lockKey, reason: errorMessage(error) }, "lock not renewed"));
    }, LOCK_TTL_MS / 3);
    renew.unref();
    try {
      await work();
    } finally {
      clearInterval(renew);
      // Not released (Redis down): it expires within LOCK_TTL_MS by itself.
      await commands
        .releaseLock(lockKey, token)
        .catch((error) => queueLog.debug({ lockKey, reason: errorMessage(error) }, "lock not released"));
    }
  }
}

/** A short digest of a status's check-run output: a changed text is posted again, an equal one not. */
function fingerprintOf(output: ReportStatus["output"]): string {
  return output ? createHash("sha256").update(JSON.stringify(output)).digest("hex").slice(0, 16) : "";
}

/** The PR's lock is held by another poster: wait and try again. */
class LockBusy extends Error {
  override name = "LockBusy";
}
