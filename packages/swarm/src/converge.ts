import { infraError, TasterError, tolerated } from "@taster/core";
import type Dockerode from "dockerode";
import { type EngineEvent, openEvents, relevant } from "./engine-events";
import type { Host } from "./host";
import { debugLine } from "./log";
import type { Plan } from "./plan";
import { lastTaskOutput, probeOutputTail, withOutput } from "./task-output";
import { listServiceTasks, type SwarmTask, taskTime } from "./tasks";

export type ConvergenceReason =
  | "image missing"
  | "task rejected"
  | "crash loop"
  | "healthcheck failing"
  | "update rolled back"
  | "update paused"
  | "timeout"
  | "service missing";

/** The deploy did not converge: which service, why, and what the engine said. */
export class ConvergenceError extends TasterError {
  constructor(
    readonly service: string,
    readonly reason: ConvergenceReason,
    readonly details: string,
  ) {
    super("recipe", `service ${service} did not converge: ${reason}${details ? ` — ${details}` : ""}`);
    this.name = "ConvergenceError";
  }
}

export interface ConvergeOptions {
  timeoutSeconds?: number;
  signal?: AbortSignal;
  onProgress?: (msg: string) => void;
}

export interface Convergence {
  /** Epoch ms when Taster saw every service converged. */
  convergedAt: number;
  durationMs: number;
}

/** Failed tasks (since the wait began) that make a restart loop a crash loop. */
const CRASH_LOOP_FAILURES = 3;
/** A service without a healthcheck counts as stable once its tasks have run this long. */
const STABLE_WITHOUT_HEALTHCHECK_MS = 2_000;
/** Events drive the wait; this poll only catches what emits no event (e.g. a task rejected for a missing image). */
const FALLBACK_POLL_MS = 1_000;

/**
 * `healthOf`: the one container whose health turning healthy is all that is missing (the
 * health_status event then says so itself, see waitForConvergence).
 */
type ServiceVerdict =
  | { done: true }
  | { done: false; waiting: string; recheckInMs?: number; healthOf?: string };

/**
 * Waits until every service's current tasks run, are healthy where a healthcheck exists and are
 * stable — woken by engine events, so it reports within one evaluation of the last change.
 *
 * The usual last change is one container turning healthy. When the last look found nothing else
 * missing, and no other event came since that look began, that container's `health_status:
 * healthy` event is the verdict itself: reported as it arrives, not one look later (a look is
 * three engine requests; bench/converge measures the difference). Any other event in between
 * and the next look decides, as usual.
 */
export async function waitForConvergence(
  host: Host,
  plan: Plan,
  opts: ConvergeOptions = {},
): Promise<Convergence> {
  const started = Date.now();
  const timeoutMs = (opts.timeoutSeconds ?? plan.timeoutSeconds) * 1000;
  const names = new Set(plan.services.map((service) => service.fullName));
  const ended: EndedTasks = new Map();
  const events = await openEvents(host.docker, started);
  let lastProgress = "";
  /** Relevant events so far, and what the last finished look was missing (see above). */
  let eventsSeen = 0;
  let lastLook: { eventsSeen: number; healthOf?: string } | undefined;
  try {
    return await new Promise<Convergence>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let running = false;
      let again = false;
      let finished = false;
      const finish = (error: unknown, result?: Convergence) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearTimeout(deadline);
        opts.signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else if (result) resolve(result);
      };
      const evaluate = async () => {
        if (finished) return;
        if (running) {
          again = true;
          return;
        }
        running = true;
        clearTimeout(timer);
        const eventsBefore = eventsSeen;
        try {
          const state = await stackState(host, plan, started, ended);
          if (state.done) return converged();
          lastLook = { eventsSeen: eventsBefore, ...(state.healthOf ? { healthOf: state.healthOf } : {}) };
          if (state.progress !== lastProgress) opts.onProgress?.(state.progress);
          lastProgress = state.progress;
          timer = setTimeout(evaluate, state.recheckInMs);
        } catch (error) {
          finish(withComposeName(error, plan));
        } finally {
          running = false;
          if (again && !finished) {
            again = false;
            void evaluate();
          }
        }
      };
      const converged = () => {
        const convergedAt = Date.now();
        finish(undefined, { convergedAt, durationMs: convergedAt - started });
      };
      const deadline = setTimeout(() => {
        const [service, detail] = splitWaiting(lastProgress, plan.appService);
        finish(
          new ConvergenceError(
            service,
            "timeout",
            `not converged after ${Math.round(timeoutMs / 100) / 10}s (${detail})`,
          ),
        );
      }, timeoutMs);
      const onAbort = () => finish(infraError(`waiting for ${plan.stack} to converge was aborted`));
      opts.signal?.addEventListener("abort", onAbort);
      if (opts.signal?.aborted) return onAbort();
      events.on("event", (event: EngineEvent) => {
        if (!relevant(event, names)) return;
        eventsSeen++;
        const onlyChange = lastLook?.healthOf !== undefined && eventsSeen === lastLook.eventsSeen + 1;
        if (onlyChange && event.Action === "health_status: healthy" && event.Actor?.ID === lastLook?.healthOf)
          return converged();
        void evaluate();
      });
      events.on("error", () => {
        // The fallback poll keeps the wait correct if the event stream breaks.
      });
      void evaluate();
    });
  } finally {
    events.close();
  }
}

type StackState = { done: true } | { done: false; progress: string; recheckInMs: number; healthOf?: string };

/** One look at every service: converged, or what it still waits for and when to look again. */
async function stackState(host: Host, plan: Plan, started: number, ended: EndedTasks): Promise<StackState> {
  const verdicts = await Promise.all(
    plan.services.map((service) => serviceVerdict(host, service.fullName, started, ended)),
  );
  const waiting = verdicts.flatMap((verdict, i) =>
    verdict.done ? [] : [`${plan.services[i]?.name}: ${verdict.waiting}`],
  );
  if (waiting.length === 0) return { done: true };
  const rechecks = verdicts.flatMap((v) => (!v.done && v.recheckInMs !== undefined ? [v.recheckInMs] : []));
  const only = waiting.length === 1 ? verdicts.find((verdict) => !verdict.done) : undefined;
  return {
    done: false,
    progress: `waiting for ${waiting.join("; ")}`,
    recheckInMs: Math.min(FALLBACK_POLL_MS, ...rechecks),
    ...(only && !only.done && only.healthOf ? { healthOf: only.healthOf } : {}),
  };
}

/** Reports name services as the recipe does (`app`), not as swarm does (`<stack>_app`). */
function withComposeName(error: unknown, plan: Plan): unknown {
  if (!(error instanceof TasterError)) {
    return infraError(`checking whether ${plan.stack} converged failed: ${(error as Error).message}`, error);
  }
  if (!(error instanceof ConvergenceError)) return error;
  const service = plan.services.find((candidate) => candidate.fullName === error.service);
  return service ? new ConvergenceError(service.name, error.reason, error.details) : error;
}

function splitWaiting(progress: string, fallback: string): [string, string] {
  const first = progress.replace(/^waiting for /, "").split("; ")[0] ?? "";
  const colon = first.indexOf(":");
  return colon > 0
    ? [first.slice(0, colon), first.slice(colon + 2)]
    : [fallback, progress || "no state seen yet"];
}

async function serviceVerdict(
  host: Host,
  fullName: string,
  started: number,
  ended: EndedTasks,
): Promise<ServiceVerdict> {
  const inspected = host.docker
    .getService(fullName)
    .inspect()
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode === 404)
        throw new ConvergenceError(fullName, "service missing", "the service does not exist");
      throw error;
    });
  // The service and its tasks are read at once: each look follows an engine event, and the time
  // it takes is how late convergence is reported (bench/converge). The service's own failure (it
  // is missing) is the one reported, whichever answer comes first.
  const listing = listServiceTasks(
    host,
    fullName,
    inspected.then((found) => found.ID),
  );
  listing.catch(() => {}); // awaited below, once the service itself was found
  const service = await inspected;
  const tasks = await listing;
  const state = service.UpdateStatus?.State;
  if (state?.startsWith("rollback")) {
    const message = service.UpdateStatus?.Message ?? state;
    const task = /task ([a-z0-9]{25})/.exec(message)?.[1];
    const output = task ? withOutput(await lastTaskOutput(host, task)) : "";
    throw new ConvergenceError(fullName, "update rolled back", `${message}${output}`);
  }
  const template = taskSpecKey(service.Spec?.TaskTemplate);
  await failFast(host, fullName, tasks, started, ended, template);
  const replicas = service.Spec?.Mode?.Replicated?.Replicas;
  const current = tasks.filter((task) => task.DesiredState === "running");
  if (state === "paused") {
    throw new ConvergenceError(fullName, "update paused", service.UpdateStatus?.Message ?? state);
  }
  // After the last task is replaced, swarm keeps the update "updating" for its monitor window
  // (5 s by default). Only a service whose update may roll back can still change its mind then,
  // so only those wait it out; for the rest, new tasks running and healthy are the verdict.
  const mayRollBack = service.Spec?.UpdateConfig?.FailureAction === "rollback";
  if (state === "updating" && mayRollBack) return { done: false, waiting: "update monitored for rollback" };
  // Right after a redeploy the old tasks still run until swarm's updater starts: they are not ours.
  if (current.some((task) => taskSpecKey(task.Spec) !== template))
    return { done: false, waiting: "old tasks still running" };
  if (replicas !== undefined && current.length < replicas) {
    return { done: false, waiting: `${current.length}/${replicas} tasks scheduled` };
  }
  if (current.length === 0 && replicas !== 0) return { done: false, waiting: "no tasks yet" };
  const verdicts = await Promise.all(current.map((task) => taskVerdict(host, fullName, task)));
  const waiting = verdicts.filter((verdict) => !verdict.done);
  const [first] = waiting;
  if (!first || first.done) return { done: true };
  // Only a lone container's health can be the whole of what is missing; the rest (a recheck time) stays.
  const { healthOf: _notAlone, ...rest } = first;
  return waiting.length === 1 ? first : rest;
}

async function taskVerdict(host: Host, fullName: string, task: SwarmTask): Promise<ServiceVerdict> {
  const state = task.Status.State;
  const containerId = task.Status.ContainerStatus?.ContainerID;
  // Swarm holds a task in `starting` until its agent has seen the container healthy; the
  // container's own health (and its health_status event) comes first, so read it directly.
  if ((state !== "running" && state !== "starting") || !containerId)
    return { done: false, waiting: `task ${state}` };
  const container = await host.docker.getContainer(containerId).inspect();
  const health = container.State.Health;
  if (!container.State.Running) return { done: false, waiting: `container ${container.State.Status}` };
  if (state === "starting" && !health) return { done: false, waiting: "task starting" };
  if (health) {
    if (health.Status === "healthy") return { done: true };
    if (health.Status === "unhealthy") {
      throw new ConvergenceError(fullName, "healthcheck failing", healthDetails(container));
    }
    return {
      done: false,
      waiting: `health ${health.Status}`,
      ...(health.Status === "starting" ? { healthOf: containerId } : {}),
    };
  }
  const runningFor = Date.now() - taskTime(task);
  if (runningFor >= STABLE_WITHOUT_HEALTHCHECK_MS) return { done: true };
  return {
    done: false,
    waiting: "running, settling",
    recheckInMs: STABLE_WITHOUT_HEALTHCHECK_MS - runningFor,
  };
}

/** Task id → health details if its container ended unhealthy, else null (terminal states never change). */
type EndedTasks = Map<string, string | null>;

const TERMINAL = new Set(["complete", "shutdown", "failed", "rejected", "orphaned", "remove"]);

/**
 * Swarm replaces an unhealthy container; the task then ends `complete` or `failed` depending on
 * how the process took the SIGTERM, so only the container's health says why it went.
 */
async function endedUnhealthy(host: Host, task: SwarmTask, ended: EndedTasks): Promise<string | null> {
  const known = ended.get(task.ID);
  if (known !== undefined) return known;
  const id = task.Status.ContainerStatus?.ContainerID;
  const container = id
    ? await host.docker
        .getContainer(id)
        .inspect()
        .catch(tolerated("inspecting an ended task's container (its health details)", debugLine))
    : undefined;
  const verdict = container && failedItsHealthcheck(container) ? healthDetails(container) : null;
  ended.set(task.ID, verdict);
  return verdict;
}

/**
 * Docker marks every stopped container that has a healthcheck "unhealthy", even one whose process
 * just exited (a crash loop) before any probe ran: only a streak of probes that really failed
 * (not the one probe cut short by the stop, exit 137) means the healthcheck is why it went.
 */
function failedItsHealthcheck(container: Dockerode.ContainerInspectInfo): boolean {
  const health = container.State.Health;
  const streak = health?.FailingStreak ?? 0;
  const lastExit = health?.Log?.at(-1)?.ExitCode;
  if (health?.Status !== "unhealthy" || streak === 0 || lastExit === undefined || lastExit === 0)
    return false;
  return !(streak === 1 && lastExit === 137);
}

/** Reasons to stop waiting now rather than at the timeout. */
async function failFast(
  host: Host,
  fullName: string,
  tasks: SwarmTask[],
  started: number,
  ended: EndedTasks,
  template: string,
): Promise<void> {
  const recent = tasks.filter((task) => taskTime(task) >= started - 1000);
  for (const task of recent) {
    if (task.DesiredState === "running" || !TERMINAL.has(task.Status.State)) continue;
    // Old-spec tasks were stopped by the update itself, not by their healthcheck.
    if (taskSpecKey(task.Spec) !== template) continue;
    const unhealthy = await endedUnhealthy(host, task, ended);
    if (unhealthy) throw new ConvergenceError(fullName, "healthcheck failing", unhealthy);
  }
  for (const task of recent) {
    const err = task.Status.Err ?? "";
    if (task.Status.State === "rejected") {
      if (/no such image|not found|pull access denied|manifest unknown/i.test(err)) {
        throw new ConvergenceError(fullName, "image missing", err);
      }
      throw new ConvergenceError(fullName, "task rejected", err || task.Status.Message || "rejected");
    }
  }
  const failed = recent.filter((task) => task.Status.State === "failed");
  const unhealthy = failed.find((task) => /unhealthy/i.test(task.Status.Err ?? ""));
  if (unhealthy) {
    const id = unhealthy.Status.ContainerStatus?.ContainerID;
    const container = id
      ? await host.docker
          .getContainer(id)
          .inspect()
          .catch(tolerated("inspecting the unhealthy task's container", debugLine))
      : undefined;
    throw new ConvergenceError(
      fullName,
      "healthcheck failing",
      container ? healthDetails(container) : (unhealthy.Status.Err ?? ""),
    );
  }
  if (failed.length >= CRASH_LOOP_FAILURES) {
    const last = failed.sort((a, b) => taskTime(b) - taskTime(a))[0];
    const code = last?.Status.ContainerStatus?.ExitCode;
    const output = last?.ID ? withOutput(await lastTaskOutput(host, last.ID)) : "";
    throw new ConvergenceError(
      fullName,
      "crash loop",
      `${failed.length} tasks failed; last exit code ${code ?? "unknown"}: ${last?.Status.Err ?? ""}${output}`,
    );
  }
}

/**
 * A task's spec as swarm compares it with the service template to decide whether the task is
 * current. The API adds a default `Runtime` to the template only, so it is left out.
 */
function taskSpecKey(spec: unknown): string {
  const { Runtime: _runtime, ...rest } = (spec ?? {}) as Record<string, unknown>;
  return canonical(rest);
}

/** JSON with sorted keys, so key order never makes two equal specs differ. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

function healthDetails(container: Dockerode.ContainerInspectInfo): string {
  const health = container.State.Health;
  const test = (container.Config.Healthcheck?.Test ?? []).join(" ");
  const last = health?.Log?.at(-1);
  const output = last
    ? `exit ${last.ExitCode}: ${probeOutputTail(last.Output) || "(no output)"}`
    : "no probe result";
  // The probe's words first: a table cell or a commit status keeps the start of this, not the end.
  return `failing (${health?.FailingStreak ?? 0} in a row); last probe ${output}; healthcheck \`${test}\``;
}
