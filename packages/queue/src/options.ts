import type { Redis } from "ioredis";
import { Keys } from "./keys";

/** What every part of the queue layer is configured with (RunQueues, IntakeQueue). */
export interface QueueLayerOptions {
  /** A fail-fast connection (see connectRedis); BullMQ queues share it. */
  redis: Redis;
  /** Prefix of Taster's own keys (dedupe, runs, logs). Default "taster". */
  keyPrefix?: string;
  /** BullMQ key prefix. Default "bull". Tests use a unique one per file. */
  bullPrefix?: string;
  /** How long delivery and comment ids are remembered. Default 8 days (GitHub lets you redeliver for 7). */
  seenTtlSec?: number;
  /** Longest a single Redis step may take before the caller is told Redis is unavailable. */
  timeoutMs?: number;
}

/** The same defaults for every part, so the bridge's and the worker's keys always line up. */
export function withDefaults(options: QueueLayerOptions) {
  return {
    redis: options.redis,
    keys: new Keys(options.keyPrefix ?? "taster"),
    bullPrefix: options.bullPrefix ?? "bull",
    seenTtlSec: options.seenTtlSec ?? 8 * 24 * 3600,
    timeoutMs: options.timeoutMs ?? 3_000,
  };
}
