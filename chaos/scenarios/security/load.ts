/**
 * Measuring the bridge under load, for the unauthenticated-traffic scenarios (bridge.ts, flood.ts):
 * percentiles, a paced webhook sender, and the nice level of the load generators.
 */
import type { ChildProcess } from "node:child_process";
import { setPriority } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { githubCommentPayload, sendGithubWebhook } from "@taster/forge-sim";
import type { World } from "../../world";
import { COMMAND } from "../scenario";

/** Signed webhooks per second while the bridge is under the scenario's load. */
export const WEBHOOK_RATE = 50;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
}

export const ms = (value: number) => `${value.toFixed(1)} ms`;

/**
 * The load generators (viewers, flood) run at nice 19, as bench/webhooks runs its forge: in
 * production their CPU is other people's machines', not the bridge's host's.
 */
export function backSeat(child: ChildProcess): void {
  if (!child.pid) return;
  try {
    setPriority(child.pid, 19);
  } catch {
    // not allowed here: the figures are only more pessimistic
  }
}

/**
 * Sends signed redeliveries of one `!testme` (answered `duplicate` after the intake's Redis check:
 * the whole answering path, without starting anything) at a steady rate until `done()`, and
 * probes /healthz at a fifth of it; returns each answer's time at the client.
 */
export async function paced(
  world: World,
  comment: { id: number; pr: number },
  done: () => boolean,
): Promise<{ webhook: number[]; healthz: number[]; statuses: number[]; loopDelayP99: number }> {
  // The bridge shares this process's event loop: how late it ran says how busy the bridge was.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const { bridge, bridgeUrl } = world.stack;
  const secret = bridge.config.github?.webhookSecrets[0] ?? "";
  const payload = githubCommentPayload({
    repo: world.stack.repo,
    pr: comment.pr,
    body: COMMAND,
    user: "alice",
    commentId: comment.id,
  });
  const webhook: number[] = [];
  const healthz: number[] = [];
  const statuses: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const fire = (work: () => Promise<number>, into: number[]) => {
    const started = performance.now();
    const p = work().then(
      (status) => {
        into.push(performance.now() - started);
        statuses.push(status);
      },
      () => {
        statuses.push(0);
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  for (let tick = 0; !done(); tick++) {
    const delivery = `sse-load-${world.tag}-${tick}`;
    fire(
      async () => (await sendGithubWebhook(bridgeUrl, secret, "issue_comment", payload, delivery)).status,
      webhook,
    );
    if (tick % 5 === 0) {
      fire(async () => {
        const res = await fetch(`${bridgeUrl}/healthz`);
        await res.text();
        return res.status;
      }, healthz);
    }
    await sleep(1000 / WEBHOOK_RATE);
  }
  await Promise.all(inFlight);
  loop.disable();
  return { webhook, healthz, statuses, loopDelayP99: loop.percentile(99) / 1e6 };
}
