import type { Redis } from "ioredis";
import { commandsOf } from "./commands";
import type { Keys } from "./keys";

/**
 * `!testme cancel` reuses the supersede path end to end (the worker stops a run whose
 * `supersededBy` is set, and is told at once on the superseded channel); this marker in place of
 * the newer run's id says it was a person, and who.
 */
const CANCELLED_BY = "cancelled-by:";

export const cancelMarker = (login: string) => `${CANCELLED_BY}${login}`;

/** The login that cancelled a run, when `supersededBy` holds a cancel marker rather than a run id. */
export function cancelledByOf(by: string | undefined): string | undefined {
  return by?.startsWith(CANCELLED_BY) ? by.slice(CANCELLED_BY.length) : undefined;
}

export interface Cancelled {
  runId: string;
  /**
   * The run's state when it was cancelled: a "running" one is stopped and torn down by its worker.
   * "already": it had been cancelled before, by `by`.
   */
  stateBefore: string;
  by: string;
}

/** Atomically marks the PR's live run as cancelled (commands/cancelRun-1.lua); undefined if none is. */
export async function cancelLiveRun(
  redis: Redis,
  keys: Keys,
  target: { forge: string; repo: string; pr: number; by: string },
): Promise<Cancelled | undefined> {
  const reply = (await commandsOf(redis).cancelRun(
    keys.pull(target.forge, target.repo, target.pr),
    keys.runPrefix(),
    cancelMarker(target.by),
    target.by,
    String(Date.now()),
  )) as string[];
  const [runId, stateBefore, by = target.by] = reply;
  return runId && stateBefore ? { runId, stateBefore, by } : undefined;
}
