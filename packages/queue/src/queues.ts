import { errorMessage, infraError } from "@taster/core";
import type { JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { type Cancelled, cancelLiveRun, cancelMarker } from "./cancel";
import { claimRun, transitionRun } from "./claim";
import { commandsOf } from "./commands";
import type { Keys } from "./keys";
import { queueLog } from "./log";
import { RunLog } from "./logs";
import { type QueueLayerOptions, withDefaults } from "./options";
import { QueueHandle } from "./queue-handle";
import { assertConnected, assertRedisReady, redisStep } from "./redis";
import { ReportOutbox } from "./reports";
import { RunStore } from "./runs";
import { queueNameFor, RUN_ATTEMPTS, type RunJob, RunJobSchema, type RunRequest } from "./schema";

export type RunQueuesOptions = QueueLayerOptions;

export interface EnqueueResult {
  outcome: "enqueued" | "coalesced" | "duplicate";
  runId: string;
  job: RunJob;
  /** Older run of the same PR that this request superseded. */
  superseded?: string;
}

const JOB_OPTIONS: JobsOptions = {
  attempts: RUN_ATTEMPTS,
  // Delays come from the worker's `backoffStrategy` (settings), which owns the infra retry policy.
  backoff: { type: "infra" },
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

const ClaimedJobSchema = RunJobSchema.omit({ runId: true });

/** Per-host BullMQ queues plus the atomic dedupe/coalesce/supersede step in front of them. */
export class RunQueues {
  readonly keys: Keys;
  readonly runs: RunStore;
  readonly logs: RunLog;
  /** What runs tell the forge (queued, progress, verdict), in order; see reports.ts. */
  readonly reports: ReportOutbox;
  readonly bullPrefix: string;
  private readonly queues = new Map<string, QueueHandle>();
  private readonly redis: Redis;
  private readonly seenTtlSec: number;
  private readonly timeoutMs: number;

  constructor(options: RunQueuesOptions) {
    ({
      redis: this.redis,
      keys: this.keys,
      bullPrefix: this.bullPrefix,
      seenTtlSec: this.seenTtlSec,
      timeoutMs: this.timeoutMs,
    } = withDefaults(options));
    this.runs = new RunStore(this.redis, this.keys);
    this.logs = new RunLog(this.redis, this.keys);
    this.reports = new ReportOutbox(this.redis, this.keys, this.bullPrefix);
  }

  /** The host's BullMQ queue as it is now (for counts and inspection; see QueueHandle). */
  queueFor(host: string): Queue {
    return this.handleFor(host).now;
  }

  private handleFor(host: string): QueueHandle {
    let handle = this.queues.get(host);
    if (!handle) {
      handle = new QueueHandle(queueNameFor(host), { connection: this.redis, prefix: this.bullPrefix });
      this.queues.set(host, handle);
    }
    return handle;
  }

  /**
   * Records a run request durably, or folds it into the run that already covers it. Resolves only
   * once the job is in Redis; rejects with an infra error when Redis is unreachable.
   */
  async enqueue(request: RunRequest): Promise<EnqueueResult> {
    const parsed = ClaimedJobSchema.parse(request);
    assertConnected(this.redis);
    const claim = await this.step(
      claimRun(this.redis, this.keys, {
        forge: parsed.forge,
        repo: parsed.repo,
        pr: parsed.pr,
        sha: parsed.sha,
        commentId: parsed.commentId,
        deliveryId: parsed.deliveryId,
        runBase: runBaseFor(parsed),
        jobJson: JSON.stringify(parsed),
        bullQueuePrefix: `${this.bullPrefix}:${queueNameFor(parsed.host)}:`,
        ttlSec: this.seenTtlSec,
      }),
    );
    if (claim.superseded) await this.dropSuperseded(claim.superseded, claim.runId, claim.supersededState);
    const job =
      claim.runState === "claimed" && claim.outcome === "enqueued"
        ? await this.addToBull({ ...parsed, runId: claim.runId })
        : await this.ensureQueued(claim.runId);
    const outcome =
      claim.outcome === "enqueued" ? "enqueued" : claim.outcome === "coalesced" ? "coalesced" : "duplicate";
    return {
      outcome,
      runId: claim.runId,
      job,
      ...(claim.superseded ? { superseded: claim.superseded } : {}),
    };
  }

  /**
   * `!testme cancel`: the PR's queued or running run stops, through the supersede path (a queued
   * job leaves its queue; a worker running it is told on the superseded channel and tears it down).
   * Undefined when the PR has no live run.
   */
  async cancel(target: {
    forge: string;
    repo: string;
    pr: number;
    by: string;
  }): Promise<Cancelled | undefined> {
    assertConnected(this.redis);
    const cancelled = await this.step(cancelLiveRun(this.redis, this.keys, target));
    // A retried command (same person, "already") finishes what it started: both steps are idempotent.
    if (cancelled && (cancelled.stateBefore !== "already" || cancelled.by === target.by))
      await this.dropSuperseded(cancelled.runId, cancelMarker(cancelled.by), cancelled.stateBefore);
    return cancelled;
  }

  /** 1 = next to start, 0 = running now, undefined = finished, superseded or unknown. */
  async position(runId: string): Promise<number | undefined> {
    const run = await this.runs.getRun(runId);
    if (!run) return undefined;
    const base = `${this.bullPrefix}:${queueNameFor(run.job.host)}`;
    const position = Number(
      await this.step(commandsOf(this.redis).queuePosition(`${base}:wait`, `${base}:active`, runId)),
    );
    return position < 0 ? undefined : position;
  }

  /** Whether this comment already led to a run (a cheap pre-check; enqueue decides atomically). */
  async seenComment(forge: string, repo: string, commentId: number): Promise<boolean> {
    return (await this.step(this.redis.exists(this.keys.comment(forge, repo, commentId)))) === 1;
  }

  /** True the first time `name` is seen within the TTL (e.g. "reply to this PR once"). */
  async once(name: string, ttlSec = this.seenTtlSec): Promise<boolean> {
    assertConnected(this.redis);
    return (await this.step(this.redis.set(this.keys.once(name), "1", "EX", ttlSec, "NX"))) === "OK";
  }

  /** Forgets a `once` name, so a failed reply can be tried again later. */
  async forget(name: string): Promise<void> {
    await this.redis.del(this.keys.once(name));
  }

  async ping(): Promise<void> {
    await assertRedisReady(this.redis, this.timeoutMs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((handle) => handle.close()));
    await this.reports.close();
    this.queues.clear();
  }

  /** Puts a claimed run's job into BullMQ. Idempotent: BullMQ ignores a second add of the same job id. */
  private async ensureQueued(runId: string): Promise<RunJob> {
    const run = await this.step(this.runs.getRun(runId));
    if (!run) throw infraError(`run ${runId} vanished from Redis while being queued`);
    // Only a claim leads here, and a claim never names a published local run.
    if (run.job.forge === "local") throw infraError(`run ${runId} is a local run; it is never queued`);
    return run.state === "claimed" ? this.addToBull(run.job) : run.job;
  }

  private async addToBull(job: RunJob): Promise<RunJob> {
    const queue = await this.step(this.handleFor(job.host).ready());
    await this.step(queue.add("run", job, { ...JOB_OPTIONS, jobId: job.runId }));
    await this.step(transitionRun(this.redis, this.keys, job.runId, "claimed", "queued"));
    return job;
  }

  private async dropSuperseded(runId: string, by: string, stateWhenSuperseded?: string): Promise<void> {
    const old = await this.step(this.runs.getRun(runId));
    if (old && stateWhenSuperseded !== "running") {
      // Fails harmlessly if a worker took it meanwhile; the worker checks supersededBy before deploying.
      await this.queueFor(old.job.host)
        .remove(runId)
        .catch((error) =>
          queueLog.debug({ runId, reason: errorMessage(error) }, "superseded job not removed"),
        );
    }
    // Tells a worker running it to cancel it now. Lost (Redis blip): the worker still sees
    // supersededBy at its next tier, or when its subscription reconnects.
    await this.redis
      .publish(this.keys.supersededChannel(), JSON.stringify({ runId, by }))
      .catch((error) => queueLog.debug({ runId, reason: errorMessage(error) }, "supersede not announced"));
  }

  private step<T>(work: Promise<T>): Promise<T> {
    return redisStep(work, this.timeoutMs);
  }
}

/** Readable, ':'-free, and the same for every request about one (repo, PR, sha). */
function runBaseFor(request: RunRequest): string {
  const name = request.repo.split("/")[1] ?? "run";
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 24);
  return `${slug || "run"}-${request.pr}-${request.sha.slice(0, 10)}`;
}
