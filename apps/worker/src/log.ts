import { readVariable } from "@taster/config";
import { errorMessage, type Redactor } from "@taster/core";
import { type Logger, pino } from "pino";

export type { Logger };

/**
 * The worker's service log: pino JSON lines (like the bridge's), every string in them passed
 * through the worker's redactor first, so no token or password reaches the log. Lines go to `sink`
 * (the CLI: stderr; tests and chaos: an array); without one the log is off.
 */
export function workerLogger(redactor: Redactor, sink?: (line: string) => void): Logger {
  if (!sink) return pino({ name: "worker", enabled: false });
  const clean = (value: unknown): unknown => {
    if (typeof value === "string") return redactor.redact(value);
    if (value instanceof Error) return redactor.redact(errorMessage(value));
    if (value && typeof value === "object" && !Array.isArray(value))
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]));
    return value;
  };
  return pino(
    {
      name: "worker",
      level: readVariable("TASTER_LOG_LEVEL") as string,
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map(clean) as Parameters<typeof method>);
        },
      },
    },
    { write: (line: string) => sink(line.trimEnd()) },
  );
}

/** The reason of a failure, as a log field. */
export const reason = (error: unknown) => ({ reason: errorMessage(error) });
