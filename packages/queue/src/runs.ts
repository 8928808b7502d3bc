import type { Redis } from "ioredis";
import { commandsOf } from "./commands";
import type { Keys } from "./keys";
import type { RunJob } from "./schema";

export type RunState = "claimed" | "queued" | "running" | "done" | "failed" | "superseded" | "cancelled";

/** A run made outside the queue (`taster run --publish`): no forge, no comment, no BullMQ job. */
export type LocalRunJob = Omit<RunJob, "forge"> & { forge: "local" };

export interface RunRecord {
  runId: string;
  state: RunState;
  job: RunJob | LocalRunJob;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** The newer run (a later sha of the same PR) that made this one obsolete, or a cancel marker. */
  supersededBy?: string;
  /** Who stopped it with `!testme cancel`. */
  cancelledBy?: string;
  result?: unknown;
}

/** What the dashboard and the worker read and write about runs: state, timing, results. */
export class RunStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return toRecord(runId, await this.redis.hgetall(this.keys.run(runId)));
  }

  /** The worker calls this when it starts; false = the run was superseded or cancelled meanwhile. */
  async markRunning(runId: string): Promise<boolean> {
    return (await commandsOf(this.redis).startRun(this.keys.run(runId), String(Date.now()))) === 1;
  }

  async saveResult(
    runId: string,
    result: unknown,
    state: "done" | "failed" | "cancelled" = "done",
  ): Promise<void> {
    await this.redis.hset(this.keys.run(runId), {
      state,
      result: JSON.stringify(result),
      finishedAt: String(Date.now()),
    });
  }

  /**
   * Stores a run that already finished elsewhere (a local `taster run --publish`), the way the
   * worker leaves a finished run, so the dashboard lists it and renders its page. The key expires
   * like a queued run's (the queue keeps runs 5 × its 8-day dedupe window).
   */
  async recordFinished(
    record: Required<Pick<RunRecord, "runId" | "createdAt" | "startedAt" | "finishedAt" | "result">> & {
      job: LocalRunJob;
      state: "done" | "failed";
    },
    ttlSec = 40 * 24 * 3600,
  ): Promise<void> {
    const { runId, job, state, createdAt, startedAt, finishedAt, result } = record;
    const { runId: _omit, ...stored } = job;
    await this.redis
      .multi()
      .hset(this.keys.run(runId), {
        state,
        job: JSON.stringify(stored),
        createdAt: String(createdAt),
        startedAt: String(startedAt),
        finishedAt: String(finishedAt),
        result: JSON.stringify(result),
      })
      .expire(this.keys.run(runId), ttlSec)
      .zadd(this.keys.runs(), createdAt, runId)
      .exec();
  }

  /** The run that superseded this one, if a newer sha of the same PR was requested. */
  async supersededBy(runId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.run(runId), "supersededBy")) ?? undefined;
  }

  /** Newest first. */
  async listRuns(limit = 50): Promise<RunRecord[]> {
    return this.recordsOf(await this.redis.zrevrange(this.keys.runs(), 0, limit - 1));
  }

  /** One PR's runs, newest first (its history page; what `retry` and `failed` start from). */
  async pullRuns(forge: string, repo: string, pr: number, limit = 100): Promise<RunRecord[]> {
    return this.recordsOf(await this.redis.zrevrange(this.keys.pullRuns(forge, repo, pr), 0, limit - 1));
  }

  private async recordsOf(ids: string[]): Promise<RunRecord[]> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.run(id));
    const replies = (await pipeline.exec()) ?? [];
    return ids.flatMap((id, i) => {
      const record = toRecord(id, replies[i]?.[1] as Record<string, string> | undefined);
      return record ? [record] : [];
    });
  }
}

function toRecord(runId: string, hash: Record<string, string> | undefined): RunRecord | undefined {
  if (!hash?.state || !hash.job) return undefined;
  const num = (value: string | undefined) => (value ? Number(value) : undefined);
  return {
    runId,
    state: hash.state as RunState,
    job: { ...(JSON.parse(hash.job) as Omit<RunJob | LocalRunJob, "runId">), runId } as RunJob | LocalRunJob,
    createdAt: Number(hash.createdAt),
    ...(hash.startedAt ? { startedAt: num(hash.startedAt) } : {}),
    ...(hash.finishedAt ? { finishedAt: num(hash.finishedAt) } : {}),
    ...(hash.supersededBy ? { supersededBy: hash.supersededBy } : {}),
    ...(hash.cancelledBy ? { cancelledBy: hash.cancelledBy } : {}),
    ...(hash.result ? { result: JSON.parse(hash.result) } : {}),
  };
}
