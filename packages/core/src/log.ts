import { type Logger, pino } from "pino";

/** Service logs (bridge, worker): JSON lines on stderr, level from TASTER_LOG_LEVEL. */
export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.TASTER_LOG_LEVEL ?? "info" }, pino.destination(2));
}

export type { Logger };
