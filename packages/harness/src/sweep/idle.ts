/**
 * "Alone on the host": before a failed tier is re-run, wait until no other Taster stack runs on the
 * host (services carrying the taster.stack label), so a re-run measures the recipe, not the load.
 * Bounded: on a host that never goes idle the re-run starts anyway and says who else was there.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type ConnectOptions, connectHost, type Host, STACK_LABEL } from "@taster/swarm";

export interface IdleWait {
  hostUrl: string;
  hostOptions?: ConnectOptions;
  timeoutMs: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** Called each time the set of other stacks changes while waiting. */
  onWaiting?: (others: string[]) => void;
}

/** The other Taster stacks still on the host when the wait ended (empty: alone). */
export async function waitUntilAlone(wait: IdleWait): Promise<string[]> {
  const host = await connectHost(wait.hostUrl, wait.hostOptions ?? {});
  try {
    const deadline = Date.now() + wait.timeoutMs;
    let seen = "";
    for (;;) {
      const others = await tasterStacks(host.docker);
      if (others.length === 0 || Date.now() >= deadline || wait.signal?.aborted) return others;
      if (others.join(",") !== seen) {
        seen = others.join(",");
        wait.onWaiting?.(others);
      }
      await sleep(wait.pollMs ?? 2_000);
    }
  } finally {
    await host.close();
  }
}

async function tasterStacks(docker: Host["docker"]): Promise<string[]> {
  const services = await docker.listServices({ filters: { label: [STACK_LABEL] } });
  const stacks = services.map((s) => s.Spec?.Labels?.[STACK_LABEL]).filter((s): s is string => !!s);
  return [...new Set(stacks)].sort();
}
