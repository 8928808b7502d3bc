export { type RetryOptions, retry } from "@taster/core";
export type { Redis } from "ioredis";
export { type BackoffPolicy, backoffDelay } from "./backoff";
export { type Cancelled, cancelledByOf, cancelMarker } from "./cancel";
export type { ClaimOutcome } from "./claim";
export { commandsOf, type QueueCommands } from "./commands";
export {
  INTAKE_QUEUE,
  type IntakeItem,
  type IntakeProcessing,
  IntakeQueue,
  type IntakeQueueOptions,
  intakeIdFor,
} from "./intake";
export { Keys } from "./keys";
export { type LogEntry, RunLog } from "./logs";
export { type HeadAtComment, PushLog, type PushLogOptions } from "./pushes";
export { type EnqueueResult, RunQueues, type RunQueuesOptions } from "./queues";
export { assertRedisReady, connectRedis, whenReady } from "./redis";
export {
  DEFAULT_REPORT_BACKOFF,
  type DeliveryOptions,
  REPORT_QUEUE,
  ReportOutbox,
  type ReportPhase,
  type ReportPort,
  type ReportStatus,
  type ReportTarget,
  type RunReport,
} from "./reports";
export { type LocalRunJob, type RunRecord, type RunState, RunStore } from "./runs";
export { queueNameFor, RUN_ATTEMPTS, type RunJob, RunJobSchema, type RunRequest } from "./schema";
export * from "./sweeps";
