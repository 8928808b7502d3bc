export { type RunJob, RunJobSchema, type RunRequest } from "@taster/contracts";

/**
 * Tries a run gets in BullMQ (job `attempts`): an infrastructure error (Docker unreachable, a
 * deploy that never converged) is retried with the worker's `infra` backoff; a recipe failure or a
 * configuration error never is (the worker ends those at once). The worker may allow fewer.
 */
export const RUN_ATTEMPTS = 3;

export const queueNameFor = (host: string): string => `taster-run-${host}`;
