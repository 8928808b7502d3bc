/**
 * Scheduled sweeps on the host queues: one BullMQ job scheduler per host (`sweep-<host>`) adds a
 * `sweep` job to that host's own run queue, at a lower priority than PR runs (BullMQ takes jobs
 * without a priority first, then the lowest number), so a sweep waits behind every queued PR run
 * and takes one of the host's capacity slots like any run — never one more.
 *
 * The sweeps' summaries are kept in Redis (newest first, capped) for the dashboard's recipes page.
 */
import { type Sweep, sweepSchema } from "@taster/contracts";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { queueNameFor } from "./schema";

export const SWEEP_JOB_NAME = "sweep";
/** PR runs carry no priority (taken first); any number is behind them. */
export const SWEEP_PRIORITY = 100;
/** Sweeps kept for the dashboard (the sparkline's window). */
export const SWEEP_HISTORY = 20;

export interface SweepJob {
  kind: "sweep";
  host: string;
}

export const sweepSchedulerId = (host: string): string => `sweep-${host}`;

export interface SchedulerTarget {
  redis: Redis;
  bullPrefix: string;
  host: string;
}

/**
 * Makes (or updates, idempotently: the id is the host's) the host's sweep scheduler; `null`
 * removes it (sweeps off). Called at every worker start.
 */
export async function upsertSweepScheduler(target: SchedulerTarget, schedule: string | null): Promise<void> {
  const queue = new Queue<SweepJob>(queueNameFor(target.host), {
    connection: target.redis,
    prefix: target.bullPrefix,
  });
  try {
    const id = sweepSchedulerId(target.host);
    if (schedule === null) {
      await queue.removeJobScheduler(id);
      return;
    }
    await queue.upsertJobScheduler(
      id,
      { pattern: schedule, tz: "UTC" },
      {
        name: SWEEP_JOB_NAME,
        data: { kind: "sweep", host: target.host },
        opts: { priority: SWEEP_PRIORITY, removeOnComplete: 50, removeOnFail: 50 },
      },
    );
  } finally {
    await queue.close();
  }
}

/** The sweeps a host's workers ran, newest first. */
export class SweepStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key = () => `${this.prefix}:sweeps`;

  async save(sweep: Sweep): Promise<void> {
    await this.redis
      .multi()
      .lpush(this.key(), JSON.stringify(sweep))
      .ltrim(this.key(), 0, SWEEP_HISTORY - 1)
      .exec();
  }

  /** Newest first; entries that no longer parse (an older schema) are skipped. */
  async recent(limit = SWEEP_HISTORY): Promise<Sweep[]> {
    const raw = await this.redis.lrange(this.key(), 0, limit - 1);
    return raw.flatMap((entry) => {
      const parsed = sweepSchema.safeParse(JSON.parse(entry));
      return parsed.success ? [parsed.data] : [];
    });
  }
}
