/** How often a quiet wait says it is still waiting (the progress of a convergence, a restore). */
export const HEARTBEAT_MS = 10_000;

export interface Heartbeat {
  /** The wait said something itself: the next beat is `everyMs` from now. */
  spoke(): void;
  stop(): void;
}

/**
 * While a wait is quiet, every `everyMs` emit what it still waits for (`describe`), so a person
 * watching never sees a minute of silence and wonders whether Taster hangs. A describe that fails
 * or says nothing skips that beat; beats never overlap.
 */
export function startHeartbeat(
  describe: (elapsedMs: number) => Promise<string>,
  emit: (line: string) => void,
  everyMs = HEARTBEAT_MS,
): Heartbeat {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(beat, everyMs);
  };
  let busy = false;
  const beat = async () => {
    // The next beat is due `everyMs` after this one began, however long describing takes.
    schedule();
    if (busy) return;
    busy = true;
    const line = await describe(Date.now() - started).catch(() => "");
    busy = false;
    if (!stopped && line) emit(line);
  };
  schedule();
  return {
    spoke: schedule,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
