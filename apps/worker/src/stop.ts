/**
 * Why a run's abort signal fired. BullMQ's `cancelJob(jobId, reason)` passes a string through to
 * the processor's signal (`signal.reason`); these helpers write and read it.
 */
export type StopReason = { kind: "superseded"; by: string } | { kind: "shutdown" };

const SHUTDOWN = "shutdown";
const SUPERSEDED = "superseded-by:";

export const stopReason = {
  shutdown: SHUTDOWN,
  supersededBy: (runId: string) => `${SUPERSEDED}${runId}`,
};

/** The reason a run was stopped, or undefined while it was not. */
export function stopOf(signal: AbortSignal): StopReason | undefined {
  if (!signal.aborted) return undefined;
  const why = String(signal.reason);
  if (why.startsWith(SUPERSEDED)) return { kind: "superseded", by: why.slice(SUPERSEDED.length) };
  return { kind: "shutdown" };
}

export const describeStop = (why: string): string =>
  why.startsWith(SUPERSEDED) ? `superseded by ${why.slice(SUPERSEDED.length)}` : "worker shutting down";
