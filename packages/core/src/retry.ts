import pRetry from "p-retry";

export interface RetryOptions {
  /** Tries in all (the first and the retries). Default: unbounded (then bound it by maxTotalMs). */
  attempts?: number;
  /** First wait; doubles each retry up to maxMs (set both equal for a steady poll). */
  minMs: number;
  maxMs: number;
  /** Stop retrying once this long has passed since the first try. */
  maxTotalMs?: number;
  /** Only errors this accepts are retried; the rest reject at once. Default: all. */
  retryIf?: (error: Error) => boolean;
  /** Told of each failed try that will be retried (for a log line). */
  onRetry?: (error: Error, attempt: number) => void;
  signal?: AbortSignal;
}

/**
 * Taster's one retry helper (p-retry underneath): capped exponential backoff with jitter, so many
 * processes coming back after an outage do not stampede Redis or the forge. Rejects with the last
 * error once the attempts or the time budget run out.
 */
export function retry<T>(step: () => Promise<T>, options: RetryOptions): Promise<T> {
  return pRetry(() => step(), {
    retries: options.attempts === undefined ? Number.POSITIVE_INFINITY : Math.max(0, options.attempts - 1),
    minTimeout: options.minMs,
    maxTimeout: options.maxMs,
    factor: options.minMs === options.maxMs ? 1 : 2,
    randomize: options.minMs !== options.maxMs,
    ...(options.maxTotalMs !== undefined ? { maxRetryTime: options.maxTotalMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    shouldRetry: ({ error }) => options.retryIf?.(error) ?? true,
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft > 0 && (options.retryIf?.(error) ?? true)) options.onRetry?.(error, attemptNumber);
    },
  });
}
