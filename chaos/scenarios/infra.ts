/** Redis, the Docker engine and the SSH link going away. */

import { join } from "node:path";
import { labStateDir } from "@taster/lab";
import { restartLabEngine } from "../engine";
import { verdictOf } from "../invariants";
import { freePortSync, freshRedisFor, redisOf } from "../redis";
import type { World, WorldOptions } from "../world";
import { COMMAND, lineOf, logSays, type Scenario, untilLogSays } from "./scenario";

/**
 * Infrastructure errors are retried by the worker with backoff (30 s, 60 s in production); the
 * scenarios shorten the waits so a round stays short — the retry path is the same.
 */
const QUICK_RETRY = { baseMs: 3_000, maxMs: 6_000, attempts: 3 };

const redisDownOnWebhook: Scenario = {
  id: "redis-down-on-webhook",
  did: "Taster's Redis stopped; a signed !testme arrives; Redis started again; the forge redelivers the same delivery",
  expected: "503 with a reason while down, then 202 and exactly one verdict",
  expect: { verdicts: 1 },
  async setup() {
    const redis = freshRedisFor("redis-down-on-webhook");
    return { world: { redisUrl: redis.url }, cleanup: () => redis.remove() };
  },
  async run(world) {
    const redis = redisOf("redis-down-on-webhook");
    const problems: string[] = [];
    const id = world.addComment(COMMAND);
    const delivery = `down-${world.tag}`;
    await redis.stop();
    const refused = await world.deliver(id, COMMAND, delivery);
    const ready = await fetch(`${world.stack.bridgeUrl}/readyz`).then((r) => r.status);
    const reason = reasonOf(refused.body);
    if (refused.status !== 503)
      problems.push(`the delivery was answered ${refused.status} while Redis was down`);
    if (!/unavailable|redis|queue/i.test(reason))
      problems.push(`the 503 gives no clear reason ("${reason}")`);
    if (ready !== 503) problems.push(`/readyz said ${ready} while Redis was down`);
    await redis.start();
    // The forge redelivers (GitHub: "Redeliver", or its own retry) until it is accepted.
    const { answer, tries } = await redeliverUntilAccepted(world, id, delivery, 30_000);
    const accepted = outcomeOf(answer);
    if (answer.status !== 202 || accepted !== "accepted")
      problems.push(`the redelivery was answered ${answer.status} ${accepted}, not accepted`);
    const state = await verdictOf(world, 180_000).catch((error: Error) => {
      throw new Error(
        `${error.message} (the redelivery was answered ${answer.status} ${accepted}, try ${tries})`,
      );
    });
    // A second redelivery after the verdict must not start another run.
    const again = await world.deliver(id, COMMAND, delivery);
    const outcome = outcomeOf(again);
    if (again.status !== 202 || outcome !== "duplicate")
      problems.push(`a late redelivery was answered ${again.status} ${outcome}, not a duplicate`);
    return {
      observed: `while down: webhook ${refused.status} "${reason}", /readyz ${ready}; after start: redelivery ${answer.status} ${accepted} (try ${tries}); run ${state}; late redelivery ${outcome}`,
      problems,
    };
  },
};

const redisRestartMidRun: Scenario = {
  id: "redis-restart-mid-run",
  did: "Taster's Redis (appendonly) stopped for 3 s and started again while the run is in its install tier",
  expected: "the run finishes, exactly one verdict, nothing lost, zero residue",
  expect: { verdicts: 1 },
  async setup() {
    const redis = freshRedisFor("redis-restart-mid-run");
    return { world: { redisUrl: redis.url }, cleanup: () => redis.remove() };
  },
  async run(world) {
    const redis = redisOf("redis-restart-mid-run");
    const id = world.addComment(COMMAND);
    const answer = await world.deliver(id, COMMAND, `restart-${world.tag}`);
    await untilLogSays(world, "install › ", 120_000);
    await redis.restart(3_000);
    const state = await verdictOf(world, 240_000);
    const problems: string[] = [];
    if (state !== "done") problems.push(`the run ended ${state} (the sample recipe is green)`);
    const logged = await logSays(world, "install › ");
    if (!logged) problems.push("the run log lost its lines from before the restart");
    return {
      observed: `webhook ${answer.status}; Redis restarted mid-install; run ${state}; run log ${logged ? "kept" : "lost"} its early lines`,
      problems,
    };
  },
};

const engineRestartMidRun: Scenario = {
  id: "engine-restart-mid-run",
  did: "the lab's dockerd stopped (its pid from the lab state dir) 2 s into the deploy, then `lab.sh up` starts it again",
  expected:
    "one verdict (green after a retry, or a failure saying the engine went away), zero residue once the engine is back",
  expect: { verdicts: 1 },
  world: { worker: { infraRetry: QUICK_RETRY } },
  async run(world) {
    const id = world.addComment(COMMAND);
    const answer = await world.deliver(id, COMMAND, `engine-${world.tag}`);
    await untilLogSays(world, "install › op: deploy", 120_000);
    await new Promise((r) => setTimeout(r, 2_000));
    const { downSeconds } = await restartLabEngine(2_000);
    const state = await verdictOf(world, 300_000);
    const sticky = world.stack.stickyComment() ?? "";
    const retried = await logSays(world, "infrastructure error");
    const problems: string[] = [];
    const saysEngine = /engine|docker|daemon|socket|ECONNREFUSED|ENOENT/i.test(sticky);
    if (state !== "done" && !saysEngine)
      problems.push("the run failed without the comment saying the engine went away");
    const why = state === "done" ? "" : `; comment says "${lineOf(sticky, /engine|docker|daemon|socket/i)}"`;
    return {
      observed: `webhook ${answer.status}; engine down ${downSeconds}s mid-deploy; ${retried ? "retried after an infrastructure error" : "no retry needed"}; run ${state}${why}`,
      problems,
    };
  },
};

/** A loopback port nothing listens on (found free, then left closed); new for every world. */
let refusedPort = 0;

const sshRefused: Scenario = {
  id: "ssh-refused",
  did: "the worker's host is ssh://root@127.0.0.1:<port> where nothing listens",
  expected: "a failure on the PR naming the unreachable host, after bounded retries; no residue, no secret",
  expect: { verdicts: 1 },
  get world() {
    refusedPort = freePortSync();
    return refusingHostWorld(refusedPort);
  },

  async run(world) {
    const started = Date.now();
    const id = world.addComment(COMMAND);
    const answer = await world.deliver(id, COMMAND, `ssh-${world.tag}`);
    const state = await verdictOf(world, 120_000);
    const seconds = Math.round((Date.now() - started) / 1000);
    const sticky = world.stack.stickyComment() ?? "";
    const summary = world.stack.statuses().find((s) => s.context === "taster");
    const problems: string[] = [];
    if (state !== "failed") problems.push(`the run ended ${state}`);
    if (!sticky.includes(`127.0.0.1:${refusedPort}`))
      problems.push("the comment does not name the unreachable host");
    if (!/refused|unreachable|ECONNREFUSED/i.test(sticky))
      problems.push("the comment does not say the connection was refused");
    if (summary?.state !== "error" && summary?.state !== "failure")
      problems.push(`the summary status is ${summary?.state ?? "missing"}`);
    return {
      observed: `webhook ${answer.status}; run ${state} after ${seconds}s; status ${summary?.state}; comment says "${lineOf(sticky, /refused|unreachable|ssh/i)}"`,
      problems,
    };
  },
};

/** A worker whose host is an SSH URL at `port`, with the lab's key and known_hosts. */
function refusingHostWorld(port: number): WorldOptions {
  return {
    worker: {
      hostUrl: `ssh://root@127.0.0.1:${port}`,
      infraRetry: QUICK_RETRY,
      // The lab's SSH key and known_hosts, as a worker for an SSH host is configured with: for
      // its runs and for removing what a failed attempt left before the next one.
      hostOptions: {
        knownHostsPath: join(labStateDir(), "ssh", "known_hosts"),
        privateKeyPath: join(labStateDir(), "ssh", "id_ed25519"),
      },
    },
  };
}

async function redeliverUntilAccepted(world: World, commentId: number, delivery: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  for (let tries = 1; ; tries++) {
    const answer = await world.deliver(commentId, COMMAND, delivery);
    if (answer.status !== 503 || Date.now() > until) return { answer, tries };
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** The bridge's answer to a delivery: accepted, duplicate, … (or the status when it gives none). */
function outcomeOf(answer: { status: number; body: string }): string {
  return /"outcome":"(\w+)"/.exec(answer.body)?.[1] ?? String(answer.status);
}

function reasonOf(body: string): string {
  try {
    return String((JSON.parse(body) as { reason?: unknown }).reason ?? "");
  } catch {
    return body.slice(0, 80);
  }
}

export const INFRA_SCENARIOS: Scenario[] = [
  redisDownOnWebhook,
  redisRestartMidRun,
  engineRestartMidRun,
  sshRefused,
];
