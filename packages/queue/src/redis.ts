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

export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(infraError(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
