import { ConvergenceError, type Host, type Plan, waitForConvergence } from "@taster/swarm";
import { stackServices } from "./backend";
import { startHeartbeat } from "./heartbeat";

type ConvergeOptions = NonNullable<Parameters<typeof waitForConvergence>[2]>;

/**
 * Docker marks EVERY stopped container with a healthcheck "unhealthy" (streak 0, last probe fine),
 * and a probe cut short by the stop exits 137. @taster/swarm's convergence once read the old
 * task an update stopped as a failing healthcheck (it now skips old-spec tasks); this stays as a
 * narrow guard: such a verdict is noise, a real failing check has a streak of failed probes with
 * their own exit code, and the retry is bounded by the same convergence timeout.
 */
export function isStoppedContainerNoise(error: unknown): boolean {
  return (
    error instanceof ConvergenceError &&
    error.reason === "healthcheck failing" &&
    /failing \((0|1) in a row\); last probe exit (0|137)\b/.test(error.details)
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * waitForConvergence within one overall timeout, waiting again past stopped-container noise.
 * Progress comes when the stack's state changes and, while it does not, every 10 s.
 */
export async function converge(host: Host, plan: Plan, opts: ConvergeOptions = {}): Promise<void> {
  const report = opts.onProgress;
  if (!report) return convergeQuietly(host, plan, opts);
  let waitingFor = "";
  const beat = startHeartbeat(
    (elapsedMs) => stillWaiting(host, plan, waitingFor, elapsedMs),
    (line) => report(line),
  );
  const onProgress = (msg: string) => {
    waitingFor = msg;
    beat.spoke();
    report(msg);
  };
  try {
    await convergeQuietly(host, plan, { ...opts, onProgress });
  } finally {
    beat.stop();
  }
}

async function convergeQuietly(host: Host, plan: Plan, opts: ConvergeOptions): Promise<void> {
  const until = Date.now() + (opts.timeoutSeconds ?? plan.timeoutSeconds) * 1000;
  for (;;) {
    const remaining = Math.max(1, (until - Date.now()) / 1000);
    try {
      await waitForConvergence(host, plan, { ...opts, timeoutSeconds: remaining });
      await untilManagerReportsRunning(host, plan, until);
      return;
    } catch (error) {
      if (!isStoppedContainerNoise(error) || Date.now() >= until || opts.signal?.aborted) throw error;
      opts.onProgress?.(
        "a container stopped by the update reads unhealthy (Docker does that): waiting again",
      );
      await sleep(1_500);
    }
  }
}

/**
 * `app 0/1 running, health starting; db 1/1 running, 20 s`: each service's running tasks and what
 * the wait last said it waits for (`waiting for app: health starting; …`), and for how long.
 */
export async function stillWaiting(
  host: Host,
  plan: Plan,
  waitingFor: string,
  elapsedMs: number,
): Promise<string> {
  const services = await stackServices({ host, plan, backup: null });
  const what = new Map(
    waitingFor
      .replace(/^waiting for /, "")
      .split("; ")
      .map((part) => [part.slice(0, part.indexOf(":")), part.slice(part.indexOf(":") + 1).trim()]),
  );
  const parts = services.map((s) => {
    const reason = what.get(s.name);
    return `${s.name} ${s.running}/${s.desired} running${reason ? `, ${reason}` : ""}`;
  });
  return `${parts.join("; ") || "no services yet"}, ${Math.round(elapsedMs / 1000)} s`;
}

/**
 * swarm's convergence can report done when the containers are healthy but the manager still
 * lists the task as "starting" (it moves a task to "running" only after the agent reports the
 * health). Tests read the manager's view, so wait until it agrees, within the same deadline.
 */
async function untilManagerReportsRunning(host: Host, plan: Plan, until: number): Promise<void> {
  for (;;) {
    const services = await stackServices({ host, plan, backup: null });
    const lagging = services.filter((s) => s.running < s.desired);
    if (lagging.length === 0 || Date.now() >= until) return;
    await sleep(100);
  }
}
