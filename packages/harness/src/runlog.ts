import { createWriteStream, type WriteStream } from "node:fs";
import type { Redactor } from "@taster/core";

/** One progress line of a run, as the CLI prints it and the worker will stream it. */
export interface RunEvent {
  /** Milliseconds since the run started. */
  elapsedMs: number;
  tier?: string;
  step: string;
  message: string;
}

/**
 * The run's log: every line is redacted with the run's Redactor before it goes anywhere (file,
 * callback), so a secret value never leaves the process even if a test prints it.
 */
export class RunLog {
  private readonly started = Date.now();
  private file: WriteStream | undefined;
  readonly lines: string[] = [];

  constructor(
    private readonly redactor: Redactor,
    private readonly onEvent?: (event: RunEvent) => void,
  ) {}

  /** Also write the full log to this file from now on (earlier lines included). */
  toFile(path: string): void {
    this.file = createWriteStream(path, { mode: 0o600 });
    for (const line of this.lines) this.file.write(`${line}\n`);
  }

  get elapsedMs(): number {
    return Date.now() - this.started;
  }

  /** A progress event: shown live and logged. */
  event(step: string, message: string, tier?: string): void {
    const safe = this.redactor.redact(message);
    this.write(`${this.stamp()} ${tier ? `${tier} › ` : ""}${step}: ${safe}`);
    this.onEvent?.({ elapsedMs: this.elapsedMs, ...(tier ? { tier } : {}), step, message: safe });
  }

  /** Detail only for the log file (jest output, broker calls). */
  detail(text: string, tier?: string): void {
    this.write(`${this.stamp()} ${tier ? `${tier} | ` : "| "}${this.redactor.redact(text)}`);
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (file) await new Promise<void>((resolve) => file.end(resolve));
  }

  private stamp(): string {
    return `[+${(this.elapsedMs / 1000).toFixed(1)}s]`;
  }

  private write(line: string): void {
    this.lines.push(line);
    this.file?.write(`${line}\n`);
  }
}
