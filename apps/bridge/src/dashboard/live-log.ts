import type { Redactor } from "@taster/core";
import type { LogEntry, RunLog, RunRecord, RunStore } from "@taster/queue";
import type { Request, Response } from "express";
import { trusted } from "./html";
import { BATCH, type LiveLogHub, replay } from "./live-follow";
import { FINISHED } from "./view";

/** Redis stream ids look like `1700000000000-0`; anything else is ignored rather than sent to XRANGE. */
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
/** A client that reads slower than this much unsent text is cut off; it reconnects and resumes. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * The one piece of JavaScript on the dashboard: follow the run's log over server-sent events.
 * Lines are added as text nodes, so a hostile log line can never become markup.
 */
export const LIVE_LOG_SCRIPT = trusted(`<script>
(() => {
  const pre = document.getElementById("log");
  const status = document.getElementById("log-status");
  if (!pre || !window.EventSource) return;
  const source = new EventSource(pre.dataset.stream);
  source.onopen = () => { status.textContent = "live"; };
  source.onmessage = (event) => {
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(event.data + "\\n");
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  };
  source.addEventListener("end", (event) => {
    source.close();
    status.textContent = "run " + event.data + " — ";
    const reload = document.createElement("a");
    reload.href = location.pathname;
    reload.textContent = "reload for the verdict";
    status.append(reload);
  });
  source.onerror = () => {
    status.textContent = source.readyState === EventSource.CLOSED
      ? "live log not available right now (too many viewers?) — reload to try again"
      : "reconnecting…";
  };
})();
</script>`);

export interface LiveLogDeps {
  runs: RunStore;
  logs: RunLog;
  /** Every live stream's lines come through here: one Redis reader per live run. */
  hub: LiveLogHub;
  /** A log line as an event, redacted: the same text for the hub and for replays. */
  render(entry: LogEntry): string;
  /** A stream is closed after this long (± 10 %, so reconnects spread out); the browser resumes. */
  maxStreamMs: number;
  redactor?: Redactor | undefined;
  signal?: AbortSignal | undefined;
}

/** Where to resume: the browser's Last-Event-ID on a reconnect, else `?after=` from the page, else the start. */
function resumeFrom(req: Request): string | undefined {
  const candidate = req.get("last-event-id") ?? (typeof req.query.after === "string" ? req.query.after : "");
  return STREAM_ID.test(candidate) ? candidate : undefined;
}

/** One SSE event per log line; a line with newlines becomes several `data:` fields, which SSE joins back. */
export function sseEvent(id: string, line: string): string {
  return `id: ${id}\n${line
    .split(/\r?\n|\r/)
    .map((part) => `data: ${part}`)
    .join("\n")}\n\n`;
}

const endEvent = (state: string) => `event: end\ndata: ${state}\n\n`;

/**
 * GET /runs/:id/log as text/event-stream: the lines after the resume point, then — while the run is
 * live — every new line as the run's one reader gets it, until the run is finished (`event: end`)
 * or the stream reaches its maximum lifetime (closed without `end`: the browser reconnects with
 * Last-Event-ID and carries on). Resolves when the stream is closed.
 */
export async function streamLog(
  deps: LiveLogDeps,
  run: RunRecord,
  req: Request,
  res: Response,
): Promise<void> {
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
  });
  res.write("retry: 2000\n\n");
  const closed = new Promise<void>((resolve) => res.once("close", () => resolve()));
  const from = resumeFrom(req);
  if (deps.signal?.aborted) {
    res.end();
  } else if (FINISHED.has(run.state)) {
    // Nothing more will come: the lines after the resume point, then the end, without a reader.
    await replay(
      deps,
      run.runId,
      from,
      undefined,
      (text) => res.write(text),
      () => res.destroyed,
    );
    res.end(endEvent(run.state));
  } else {
    await follow(deps, run.runId, from, res);
  }
  await closed;
}

async function follow(deps: LiveLogDeps, runId: string, from: string | undefined, res: Response) {
  let open = true;
  const client = {
    write(text: string) {
      if (!open) return;
      res.write(text);
      // A reader that stopped reading: cut it off rather than hold its backlog in memory.
      if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
    },
    end(state?: string) {
      if (!open) return;
      open = false;
      res.end(state === undefined ? undefined : endEvent(state));
    },
  };
  const lifetime = setTimeout(() => client.end(), deps.maxStreamMs * (0.9 + Math.random() * 0.2));
  lifetime.unref();
  res.once("close", () => {
    open = false;
    clearTimeout(lifetime);
  });
  const leave = await deps.hub.join(runId, from, client);
  if (res.destroyed) leave();
  else res.once("close", leave);
}

/** The whole log as plain text (log.txt, and /runs/:id/log for anything that is not an EventSource). */
export async function sendLogText(deps: LiveLogDeps, runId: string, res: Response): Promise<void> {
  res.writeHead(200, {
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
  });
  let cursor: string | undefined;
  for (;;) {
    const entries = await deps.logs.readLog(runId, cursor, BATCH);
    if (entries.length === 0) break;
    res.write(entries.map((e) => `${deps.redactor?.redact(e.line) ?? e.line}\n`).join(""));
    cursor = entries.at(-1)?.id;
    if (entries.length < BATCH) break;
  }
  res.end();
}
