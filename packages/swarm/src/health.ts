import { errorMessage } from "@taster/core";
import type { Host } from "./host";

/**
 * Whether the host can take swarm work now: its engine answers and is an active swarm manager.
 * Returns what is wrong in words (naming the host), or undefined when all is well. Used to tell a
 * recipe's failure from the engine going away under it (a restart, a crash, a cut link).
 */
export async function engineProblem(host: Host, timeoutMs = 5_000): Promise<string | undefined> {
  try {
    const info = (await withTimeout(host.docker.info(), timeoutMs)) as {
      Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean };
    };
    const state = info.Swarm?.LocalNodeState ?? "unknown";
    if (state !== "active") return `the Docker engine at ${host.url} is not in an active swarm (${state})`;
    if (!info.Swarm?.ControlAvailable) return `the Docker engine at ${host.url} is not a swarm manager now`;
    return undefined;
  } catch (error) {
    return `the Docker engine at ${host.url} does not answer: ${errorMessage(error)}`;
  }
}

/** Polls until the engine is back (resolves true) or `timeoutMs` passed (false). */
export async function untilEngineBack(host: Host, timeoutMs: number, pollMs = 1_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await engineProblem(host, Math.min(5_000, timeoutMs))) === undefined) return true;
    if (Date.now() + pollMs > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000}s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
