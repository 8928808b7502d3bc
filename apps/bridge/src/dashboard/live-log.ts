import type { Redactor } from "@taster/core";
import type { RunLog, RunStore } from "@taster/queue";
import type { Request, Response } from "express";
import { trusted } from "./html";
import { FINISHED } from "./view";

/** Redis stream ids look like `1700000000000-0`; anything else is ignored rather than sent to XRANGE. */
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
const BATCH = 1_000;
const HEARTBEAT_MS = 15_000;

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
  source.onerror = () => { if (source.readyState !== EventSource.CLOSED) status.textContent = "reconnecting…"; };
})();
</script>`);

export interface LiveLogDeps {
  runs: RunStore;
  logs: RunLog;
  pollMs: number;
  redactor?: Redactor | undefined;
  signal?: AbortSignal | undefined;
}

/** Waits `ms`, or less if the stream is stopped meanwhile. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Where to resume: the browser's Last-Event-ID on a reconnect, else `?after=` from the page, else the start. */
function resumeFrom(req: Request): string | undefined {
  const candidate = req.get("last-event-id") ?? (typeof req.query.after === "string" ? req.query.after : "");
  return STREAM_ID.test(candidate) ? candidate : undefined;
}

/** One SSE event per log line; a line with newlines becomes several `data:` fields, which SSE joins back. */
function sseEvent(id: string, line: string): string {
  return `id: ${id}\n${line
    .split(/\r?\n|\r/)
    .map((part) => `data: ${part}`)
    .join("\n")}\n\n`;
}

/**
 * GET /runs/:id/log as text/event-stream: replays the stream after the resume point, then polls for
 * new lines until the run is finished and everything is sent, then says `event: end`.
 */
export async function streamLog(
  deps: LiveLogDeps,
  runId: string,
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
  let closed = deps.signal?.aborted ?? false;
  const stop = () => {
    closed = true;
  };
  res.on("close", stop);
  deps.signal?.addEventListener("abort", stop, { once: true });
  const redact = (text: string) => deps.redactor?.redact(text) ?? text;
  let cursor = resumeFrom(req);
  let lastWrite = Date.now();
  while (!closed) {
    // Read the state before the lines: the worker writes its last line before it stores the verdict,
    // so once a finished state is seen, one more read has everything.
    const state = (await deps.runs.getRun(runId))?.state;
    const finished = state === undefined || FINISHED.has(state);
    let entries = await deps.logs.readLog(runId, cursor, BATCH);
    while (entries.length > 0 && !closed) {
      res.write(entries.map((e) => sseEvent(e.id, redact(e.line))).join(""));
      lastWrite = Date.now();
      cursor = entries.at(-1)?.id ?? cursor;
      entries = entries.length === BATCH ? await deps.logs.readLog(runId, cursor, BATCH) : [];
    }
    if (finished) {
      res.write(`event: end\ndata: ${state ?? "gone"}\n\n`);
      break;
    }
    if (Date.now() - lastWrite > HEARTBEAT_MS) {
      res.write(": still running\n\n");
      lastWrite = Date.now();
    }
    await pause(deps.pollMs, deps.signal);
  }
  deps.signal?.removeEventListener("abort", stop);
  res.end();
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
