import type { Redis } from "ioredis";
import type { Keys } from "./keys";

export interface LogEntry {
  /** Redis stream id; pass the last one you saw to readLog to continue after it. */
  id: string;
  line: string;
}

/** A run's live log: a bounded Redis stream the worker appends to and the dashboard tails. */
export class RunLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly maxLines = 20_000,
    private readonly ttlSec = 30 * 24 * 3600,
  ) {}

  async appendLog(runId: string, line: string): Promise<string> {
    const key = this.keys.log(runId);
    const [[, id] = []] = ((await this.redis
      .multi()
      .xadd(key, "MAXLEN", "~", String(this.maxLines), "*", "line", line)
      .expire(key, this.ttlSec)
      .exec()) ?? []) as [unknown, string][];
    return String(id);
  }

  /** Lines after `afterId` (from the start when omitted), oldest first. */
  async readLog(runId: string, afterId?: string, count = 1_000): Promise<LogEntry[]> {
    const start = afterId ? `(${afterId}` : "-";
    const entries = await this.redis.xrange(this.keys.log(runId), start, "+", "COUNT", count);
    return entries.map(([id, fields]) => ({ id, line: fields[1] ?? "" }));
  }
}
