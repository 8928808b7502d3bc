import { infraError } from "@taster/core";
import { Redis } from "ioredis";

/**
 * A Redis connection that fails fast: while Redis is down, commands reject at once instead of
 * queueing in memory, so a webhook is answered 503 rather than 2xx-and-lost. It keeps reconnecting.
 */
export function connectRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    lazyConnect: false,
  });
}

/** Rejects with an infra error unless Redis answers now. */
export async function assertRedisReady(redis: Redis, timeoutMs = 2_000): Promise<void> {
  if (redis.status !== "ready") throw infraError(`Redis is not reachable (connection ${redis.status})`);
  await withTimeout(redis.ping(), timeoutMs, "Redis did not answer PING");
}

/**
 * `work`, or an infra error after `ms`. A plain timer, cleared as soon as `work` settles: this runs
 * twice per webhook, and an aborted `timers/promises` sleep would build (and throw away) an
 * AbortController, its listener and a DOMException with a stack trace each time.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(infraError(`${what} within ${ms} ms`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Throws at once, without a round trip, when the connection is not up (used on hot paths). */
export function assertConnected(redis: Redis): void {
  if (redis.status !== "ready") throw infraError(`Redis is not reachable (connection ${redis.status})`);
}

/**
 * One Redis step of a queue operation: bounded by `timeoutMs`, and any failure that is not already
 * Taster's own error becomes an infrastructure error ("Redis is not reachable: …").
 */
export function redisStep<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  return withTimeout(work, timeoutMs, "Redis did not answer").catch((error) => {
    throw error instanceof Error && error.name === "TasterError"
      ? error
      : infraError(
          `Redis is not reachable: ${error instanceof Error ? error.message : String(error)}`,
          error,
        );
  });
}

/**
 * Resolves once a new connection is up; otherwise, after `timeoutMs`, an infra error naming the
 * connection's last error ("Redis at … did not answer (connect ECONNREFUSED …)").
 */
export async function whenReady(redis: Redis, timeoutMs = 10_000, who = "Redis"): Promise<void> {
  if (redis.status === "ready") return;
  let lastError = "no answer";
  const onError = (error: Error) => {
    lastError = error.message;
  };
  redis.on("error", onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once("ready", () => resolve());
      timer = setTimeout(() => reject(infraError(`${who} did not answer (${lastError})`)), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    redis.off("error", onError);
  }
}
