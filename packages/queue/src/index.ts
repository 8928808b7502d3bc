export type { Redis } from "ioredis";
export type { ClaimOutcome } from "./claim";
export { INTAKE_QUEUE, type IntakeItem, IntakeQueue, type IntakeQueueOptions, intakeIdFor } from "./intake";
export { Keys } from "./keys";
export { type LogEntry, RunLog } from "./logs";
export { type EnqueueResult, RunQueues, type RunQueuesOptions } from "./queues";
export { assertRedisReady, connectRedis } from "./redis";
export { type RunRecord, type RunState, RunStore } from "./runs";
export { queueNameFor, type RunJob, RunJobSchema, type RunRequest } from "./schema";
