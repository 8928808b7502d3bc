import { createHash } from "node:crypto";
import type { Writable } from "node:stream";
import { errorMessage } from "@taster/core";
import { type Job, type JobsOptions, type Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { commandsOf } from "./commands";
import { entryFields, InboxMover } from "./inbox";
import type { Keys } from "./keys";
import { queueLog } from "./log";
import { withDefaults } from "./options";
import { PushLog, type PushLogOptions } from "./pushes";
import { QueueHandle } from "./queue-handle";
import { assertConnected, redisStep } from "./redis";

/** One accepted `!testme`, as the intake hands it to processing (no forge API call made yet). */
export interface IntakeItem {
  forge: string;
  repo: string;
  pr: number;
  commentId: number;
  author: string;
  deliveryId: string;
  /** The command as parsed at intake (the comment body itself is not kept). */
  command:
    | { kind: "run"; stages: string[]; sha?: string }
    | { kind: "help" }
    | { kind: "invalid"; reason: string }
    | { kind: "retry" | "failed" | "cancel" | "quick" };
  receivedAt: string;
  /** When the comment was written (the forge's `created_at`): which head its author saw, and its age. */
  commentCreatedAt: string;
  /** The payload's clone URL, if any (the worker checks it against its configured forge host). */
  cloneUrl?: string;
  /**
   * Set when the command came from a check run's "Re-run" button (GitHub `check_run`
   * `rerequested`), not a comment: then `commentId` is an id of that press above 2^52 (see the
   * bridge's rerun.ts) and there is no comment to react to.
   */
  checkRunId?: number;
}

export interface IntakeQueueOptions extends PushLogOptions {
  /** Processing attempts before a command is recorded as failed. Default 8. */
  attempts?: number;
  /** First retry delay; doubles each attempt. Default 2 000 ms (8 attempts ≈ 4 min). */
  backoffMs?: number;
}

export const INTAKE_QUEUE = "taster-intake";

/** The intake's processing as `work` starts it: the inbox's mover and the queue's worker. */
export interface IntakeProcessing {
  running(): boolean;
  close(): Promise<void>;
}

/**
 * The durable hand-off between answering a webhook and working on it: `submit` returns once the
 * command is in Redis, a BullMQ worker (`work`) later does the forge API calls, retrying with
 * exponential backoff. The BullMQ job id is derived from (forge, repo, comment), and finished jobs
 * are kept as long as the seen-once keys, so adding a comment twice is always a no-op.
 */
export class IntakeQueue {
  private readonly bullQueue: QueueHandle<IntakeItem>;
  private readonly redis: Redis;
  private readonly keys: Keys;
  private readonly bullPrefix: string;
  private readonly seenTtlSec: number;
  private readonly timeoutMs: number;
  private readonly jobOptions: JobsOptions;
  /** The PRs' pushes as their webhooks announced them (what the head was when a comment was written). */
  readonly pushes: PushLog;

  constructor(options: IntakeQueueOptions) {
    this.pushes = new PushLog(options);
    ({
      redis: this.redis,
      keys: this.keys,
      bullPrefix: this.bullPrefix,
      seenTtlSec: this.seenTtlSec,
      timeoutMs: this.timeoutMs,
    } = withDefaults(options));
    this.jobOptions = {
      attempts: options.attempts ?? 8,
      backoff: { type: "exponential", delay: options.backoffMs ?? 2_000 },
      removeOnComplete: { age: this.seenTtlSec },
      removeOnFail: { age: this.seenTtlSec },
    };
    this.bullQueue = new QueueHandle<IntakeItem>(INTAKE_QUEUE, {
      connection: this.redis,
      prefix: this.bullPrefix,
    });
  }

  /** The BullMQ queue as it is now (for counts and inspection; see QueueHandle). */
  get queue(): Queue<IntakeItem> {
    return this.bullQueue.now;
  }

  get attempts(): number {
    return this.jobOptions.attempts ?? 1;
  }

  /**
   * "accepted" the first time a delivery/comment is seen (or when it restarts a command that had
   * failed for good), "duplicate" otherwise. One atomic script (acceptIntake-3.lua) remembers the
   * delivery and appends the command to the inbox stream, so either both happened or neither did;
   * the intake role moves it into the queue (InboxMover). Rejects with an infra error if Redis is down.
   */
  async submit(item: IntakeItem): Promise<{ outcome: "accepted" | "duplicate"; intakeId: string }> {
    assertConnected(this.redis);
    const intakeId = intakeIdFor(item);
    writeTogether(this.redis);
    const fresh = await this.step(
      commandsOf(this.redis).acceptIntake(
        this.keys.intakeDelivery(item.forge, item.deliveryId),
        this.keys.intakeComment(item.forge, item.repo, item.commentId),
        this.keys.intakeInbox(),
        String(this.seenTtlSec),
        intakeId,
        JSON.stringify(item),
      ),
    );
    if (Number(fresh) === 1) return { outcome: "accepted", intakeId };
    return { outcome: (await this.retryIfFailed(intakeId)) ? "accepted" : "duplicate", intakeId };
  }

  /** Commands not processed yet: taken in but not moved into the queue, or waiting, delayed or running there. */
  async backlog(): Promise<number> {
    const [inbox, counts] = await Promise.all([
      this.step(this.redis.xlen(this.keys.intakeInbox())),
      this.step(this.queue.getJobCounts("wait", "active", "delayed", "prioritized")),
    ]);
    return inbox + Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  /** Whether a command is known to the intake: in its inbox or in its queue (in any state). */
  async has(intakeId: string): Promise<boolean> {
    if (await this.step(this.queue.getJob(intakeId))) return true;
    const entries = await this.step(this.redis.xrange(this.keys.intakeInbox(), "-", "+"));
    return entries.some(([, fields]) => entryFields(fields).id === intakeId);
  }

  /**
   * A command whose processing gave up (the forge was down past every retry) is kept as a failed
   * job; seeing the comment again (redelivery, reconciler) starts it over instead of being a no-op.
   */
  private async retryIfFailed(intakeId: string): Promise<boolean> {
    const job = await this.step(this.bullQueue.ready().then((queue) => queue.getJob(intakeId)));
    if (!job || !(await this.step(job.isFailed()))) return false;
    // Another bridge may have retried it first.
    await this.step(job.retry("failed")).catch((error) =>
      queueLog.debug({ intakeId, reason: errorMessage(error) }, "intake job not retried"),
    );
    return true;
  }

  /** Whether this comment already came through the intake (the reconciler's cheap pre-check). */
  async seenComment(forge: string, repo: string, commentId: number): Promise<boolean> {
    return (await this.step(this.redis.exists(this.keys.intakeComment(forge, repo, commentId)))) === 1;
  }

  /**
   * Processing: the inbox's mover and a worker for the intake queue, each on its own blocking
   * connection (duplicated from `redis`). A processor that throws is retried with backoff;
   * `onExhausted` sees the last failure.
   */
  work(
    processor: (item: IntakeItem, job: Job<IntakeItem>) => Promise<unknown>,
    options: { concurrency?: number; onExhausted?: (item: IntakeItem, error: Error) => void } = {},
  ): IntakeProcessing {
    const blocking = () => this.redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
    const mover = new InboxMover(
      blocking(),
      this.keys.intakeInbox(),
      () => this.bullQueue.ready() as Promise<Queue>,
      this.jobOptions,
    );
    const connection = blocking();
    const worker = new Worker<IntakeItem>(INTAKE_QUEUE, (job) => processor(job.data, job), {
      connection,
      prefix: this.bullPrefix,
      // Small on purpose: processing shares the CPU with the webhook answers, which must stay fast.
      concurrency: options.concurrency ?? 4,
      autorun: true,
    });
    worker.on("error", () => {});
    worker.on("failed", (job, error) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) options.onExhausted?.(job.data, error);
    });
    worker.on("closed", () => connection.disconnect());
    return {
      running: () => mover.running && worker.isRunning(),
      close: async () => {
        await Promise.all([mover.stop(), worker.close()]);
      },
    };
  }

  async close(): Promise<void> {
    await this.bullQueue.close();
  }

  private step<T>(work: Promise<T>): Promise<T> {
    return redisStep(work, this.timeoutMs);
  }
}

/** BullMQ job ids may not contain ':'; the repo part is hashed to keep ids short and safe. */
export function intakeIdFor(item: Pick<IntakeItem, "forge" | "repo" | "commentId">): string {
  const repo = createHash("sha1").update(item.repo).digest("hex").slice(0, 12);
  return `${item.forge}-${repo}-${item.commentId}`;
}

/**
 * Holds the connection's writes until the promise jobs queued now have run, so the commands of
 * deliveries answered in the same moment reach the socket in one write instead of one system call
 * each (on loopback a write also runs Redis's side of TCP: it was the largest single cost of
 * answering a webhook, bench/webhooks). process.nextTick, because it always runs before the event
 * loop waits again, so writes are never held across a wait (a cork taken during setImmediate's
 * phase would be held until some other event woke the loop).
 */
function writeTogether(redis: Redis): void {
  const stream = redis.stream as Partial<Pick<Writable, "cork" | "uncork">> | undefined;
  if (!stream?.cork || !stream.uncork) return;
  stream.cork();
  process.nextTick(() => stream.uncork?.());
}
