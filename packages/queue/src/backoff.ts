/** Capped exponential backoff with jitter, for retries that must outlive a process (BullMQ jobs). */
export interface BackoffPolicy {
  /** First retry delay; doubles each attempt up to maxMs. */
  baseMs: number;
  maxMs: number;
  /** Attempts before giving up. */
  attempts: number;
}

export function backoffDelay(policy: BackoffPolicy, attemptsMade: number): number {
  const exp = policy.baseMs * 2 ** Math.max(0, attemptsMade - 1);
  const capped = Math.min(exp, policy.maxMs);
  // ±20% jitter so many processes coming back after an outage do not stampede the forge.
  return Math.round(capped * (0.8 + Math.random() * 0.4));
}
