import { once } from "node:events";
import { errorMessage } from "@taster/core";
import type { Redis } from "ioredis";
import type { Keys } from "./keys";
import { queueLog } from "./log";

export interface LogEntry {
  /** Redis stream id; pass the last one you saw to readLog to continue after it. */
  id: string;
  line: string;
}

/**
 * A blocking reader of one run's log on a Redis connection of its own: `XREAD BLOCK` holds its
 * connection while it waits, so it must never share the connection everything else uses.
 */
export interface LogReader {
  /** Lines after `afterId` (from the start when omitted), oldest first; waits up to `blockMs` for one. */
  next(afterId: string | undefined, blockMs: number, count?: number): Promise<LogEntry[]>;
  /** Ends the connection; a read waiting meanwhile rejects. */
  close(): void;
}

const toEntries = (entries: [string, string[]][]): LogEntry[] =>
  entries.map(([id, fields]) => ({ id, line: fields[1] ?? "" }));

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

  /** Lines after `afterId` (from the start when omitted) up to and including `untilId` (the end), oldest first. */
  async readLog(runId: string, afterId?: string, count = 1_000, untilId?: string): Promise<LogEntry[]> {
    const start = afterId ? `(${afterId}` : "-";
    return toEntries(await this.redis.xrange(this.keys.log(runId), start, untilId ?? "+", "COUNT", count));
  }

  /**
   * Opens a blocking reader of one run's log on a new connection (same server and options), named
   * `<prefix>:live-log:<runId>` in CLIENT LIST so an operator can count them.
   */
  openReader(runId: string): LogReader {
    const key = this.keys.log(runId);
    const connection = this.redis.duplicate({ connectionName: `${this.keys.prefix}:live-log:${runId}` });
    // Failures surface through the read that hits them; without a listener ioredis prints each one.
    connection.on("error", (error) =>
      queueLog.debug({ runId, reason: errorMessage(error) }, "live log reader"),
    );
    const closed = new AbortController();
    return {
      async next(afterId, blockMs, count = 1_000) {
        await untilReady(connection, 5_000, closed.signal);
        const answer = (await connection.xread(
          "COUNT",
          count,
          "BLOCK",
          Math.max(1, Math.round(blockMs)),
          "STREAMS",
          key,
          afterId ?? "0-0",
        )) as [string, [string, string[]][]][] | null;
        return toEntries(answer?.[0]?.[1] ?? []);
      },
      close: () => {
        // Once: a second disconnect would arm ioredis's timeout on a socket that already closed.
        if (closed.signal.aborted) return;
        closed.abort();
        connection.disconnect();
        // Redis answers nothing to a connection blocked in XREAD, so a graceful close would wait
        // up to ioredis's 2 s disconnect timeout (holding the process open); there is nothing to lose.
        connection.stream?.destroy();
      },
    };
  }
}

/** A fresh connection refuses commands until it is up (no offline queue): wait for that, bounded. */
async function untilReady(connection: Redis, timeoutMs: number, closed: AbortSignal): Promise<void> {
  if (connection.status === "ready") return;
  if (connection.status === "end" || closed.aborted) throw new Error("the log reader was closed");
  try {
    await once(connection, "ready", { signal: AbortSignal.any([closed, AbortSignal.timeout(timeoutMs)]) });
  } catch (error) {
    if (closed.aborted) throw new Error("the log reader was closed");
    throw new Error(`Redis did not accept a connection within ${timeoutMs} ms`, { cause: error });
  }
}
