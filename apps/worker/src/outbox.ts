import { errorMessage } from "@taster/core";
import { type Job, Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { ReportForge } from "./forge";
import type { CommitStatus, Report } from "./report";

export const REPORT_QUEUE = "taster-report";

/** Where a run reports: the PR for the sticky comment, the head sha for statuses. */
export interface ReportTarget {
  runId: string;
  repo: string;
  pr: number;
  sha: string;
}

export interface BackoffPolicy {
  /** First retry delay; doubles each attempt up to maxMs. */
  baseMs: number;
  maxMs: number;
  /** Attempts before a report is given up (it stays in Redis as failed, visible to admins). */
  attempts: number;
}

/** Production: 2 s doubling to 5 min, 60 attempts ≈ 4.5 hours of forge outage survived. */
export const DEFAULT_REPORT_BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 5 * 60_000, attempts: 60 };

export function backoffDelay(policy: BackoffPolicy, attemptsMade: number): number {
  const exp = policy.baseMs * 2 ** Math.max(0, attemptsMade - 1);
  const capped = Math.min(exp, policy.maxMs);
  // ±20% jitter so many workers coming back after an outage do not stampede the forge.
  return Math.round(capped * (0.8 + Math.random() * 0.4));
}

interface OutboxJob {
  runId: string;
}

/**
 * A durable outbox for everything the worker tells the forge. The *desired* report of a run (its
 * latest sticky body and statuses) lives in a Redis hash; every publish enqueues a BullMQ job that
 * posts whatever is desired and not yet posted. So a forge outage only delays the report (retries
 * with capped exponential backoff, surviving restarts), a late retry of an older job can never put
 * an older body back, and nothing is posted twice once it is acknowledged.
 */
export class ReportOutbox {
  readonly queue: Queue<OutboxJob>;
  private worker: Worker<OutboxJob> | undefined;
  private workerConnection: Redis | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly opts: {
      keyPrefix: string;
      bullPrefix: string;
      forge: ReportForge;
      backoff?: BackoffPolicy;
      onError?: (runId: string, error: unknown, attempt: number) => void;
    },
  ) {
    this.queue = new Queue<OutboxJob>(REPORT_QUEUE, { connection: redis, prefix: opts.bullPrefix });
    this.queue.on("error", () => {});
  }

  private get backoff(): BackoffPolicy {
    return this.opts.backoff ?? DEFAULT_REPORT_BACKOFF;
  }

  private key(runId: string): string {
    return `${this.opts.keyPrefix}:report:${runId}`;
  }

  /**
   * Records the run's new desired report, then queues its delivery. Resolves once both are in Redis.
   */
  async publish(
    target: ReportTarget,
    report: Report,
    opts: { comment?: boolean; final?: boolean } = {},
  ): Promise<void> {
    const key = this.key(target.runId);
    // After the verdict, progress is history: a late "running" must never replace it.
    if (!opts.final && (await this.redis.hget(key, "final")) === "1") return;
    const previous = JSON.parse((await this.redis.hget(key, "statuses")) ?? "{}") as Record<
      string,
      CommitStatus
    >;
    for (const s of report.statuses) previous[s.context] = s;
    const seq = await this.redis
      .multi()
      .hincrby(key, "seq", 1)
      .hset(key, {
        repo: target.repo,
        pr: String(target.pr),
        sha: target.sha,
        // comment: false = statuses only (the sticky comment belongs to a newer run of the PR).
        ...(opts.comment === false ? {} : { body: report.body }),
        ...(opts.final ? { final: "1" } : {}),
        statuses: JSON.stringify(previous),
      })
      .expire(key, 30 * 24 * 3600)
      .exec();
    const n = Number(seq?.[0]?.[1] ?? Date.now());
    await this.queue.add(
      "report",
      { runId: target.runId },
      {
        jobId: `report-${target.runId}-${n}`,
        attempts: this.backoff.attempts,
        backoff: { type: "capped" },
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    );
  }

  /** Starts delivering (one report at a time per process, so one PR's edits stay in order). */
  start(): void {
    if (this.worker) return;
    this.workerConnection = this.redis.duplicate({ maxRetriesPerRequest: null });
    this.workerConnection.on("error", () => {});
    this.worker = new Worker<OutboxJob>(REPORT_QUEUE, (job) => this.deliver(job), {
      connection: this.workerConnection,
      prefix: this.opts.bullPrefix,
      concurrency: 1,
      settings: { backoffStrategy: (attemptsMade) => backoffDelay(this.backoff, attemptsMade) },
    });
    this.worker.on("error", () => {});
    this.worker.on("failed", (job, error) => {
      if (job) this.opts.onError?.(job.data.runId, error, job.attemptsMade);
    });
  }

  /** What has been acknowledged by the forge for a run (tests, the dashboard). */
  async delivered(runId: string): Promise<{ pending: boolean; postedSeq: number; seq: number }> {
    const [seq, postedSeq] = await this.redis.hmget(this.key(runId), "seq", "postedSeq");
    return {
      seq: Number(seq ?? 0),
      postedSeq: Number(postedSeq ?? 0),
      pending: Number(seq ?? 0) > Number(postedSeq ?? 0),
    };
  }

  /** Resolves once every report published so far has been acknowledged by the forge (or times out). */
  async drained(runId: string, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!(await this.delivered(runId)).pending) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  async close(): Promise<void> {
    await this.worker?.close().catch(() => {});
    await this.queue.close().catch(() => {});
    this.workerConnection?.disconnect();
  }

  private async deliver(job: Job<OutboxJob>): Promise<void> {
    const key = this.key(job.data.runId);
    const h = await this.redis.hgetall(key);
    if (!h.seq || !h.repo || !h.sha) return;
    const seq = Number(h.seq);
    if (Number(h.postedSeq ?? 0) >= seq) return;
    try {
      const posted = JSON.parse(h.postedStatuses ?? "{}") as Record<string, string>;
      const desired = JSON.parse(h.statuses ?? "{}") as Record<string, CommitStatus>;
      if (h.body !== undefined && h.postedBody !== h.body) {
        // Only the verdict may create the comment; progress edits the bridge's one if it is there.
        await this.opts.forge.upsertStickyComment(h.repo, Number(h.pr), h.body, {
          createIfMissing: h.final === "1",
        });
        await this.redis.hset(key, "postedBody", h.body);
      }
      for (const status of Object.values(desired)) {
        const fingerprint = `${status.state}|${status.description}`;
        if (posted[status.context] === fingerprint) continue;
        await this.opts.forge.setCommitStatus(h.repo, h.sha, status);
        posted[status.context] = fingerprint;
        await this.redis.hset(key, "postedStatuses", JSON.stringify(posted));
      }
      // Only what was read is acknowledged; a publish that raced in keeps its own job pending.
      await this.redis.eval(
        "if tonumber(redis.call('HGET', KEYS[1], 'postedSeq') or '0') < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'postedSeq', ARGV[1]) end",
        1,
        key,
        String(seq),
      );
    } catch (error) {
      throw new Error(`posting the report of ${job.data.runId} failed: ${errorMessage(error)}`);
    }
  }
}
