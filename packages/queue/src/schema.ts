export { type RunJob, RunJobSchema, type RunRequest } from "@taster/contracts";

export const queueNameFor = (host: string): string => `taster-run-${host}`;
