import { type Logger, pino } from "pino";

/** Service logs (bridge, worker): JSON lines on stderr, level from TASTER_LOG_LEVEL. */
export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.TASTER_LOG_LEVEL ?? "info" }, pino.destination(2));
}

export type { Logger };

/**
 * The catch handler for best-effort work whose failure changes no outcome (closing a connection,
 * removing what may already be gone): the failure is said where the caller's log goes, with its
 * reason, instead of vanishing. `say` is a pino logger's debug or a run log's detail line.
 */
export function tolerated(what: string, say: (line: string) => void): (error: unknown) => undefined {
  return (error) => {
    say(`${what} failed (tolerated): ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  };
}
