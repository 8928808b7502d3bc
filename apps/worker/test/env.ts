import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tier } from "@taster/core";
import { type ForgeSim, startForgeSim } from "@taster/forge-sim";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import { connectRedis, RunQueues } from "@taster/queue";
import { connectHost, findResidue } from "@taster/swarm";
import type { Redis } from "ioredis";
import { createWorker, githubReporter, type TasterWorker, type WorkerOptions } from "../src/index";

export const TOKEN = "ghp_worker_test_token_0123456789";
let counter = 0;

/** One test's private world: its own queue names and key prefixes on the shared Redis, its own forge. */
export interface TestEnv {
  lab: LabInfo;
  sim: ForgeSim;
  /** This test's own PR repository: the stack name hashes it, so no other run shares the stack. */
  repo: string;
  redis: Redis;
  queues: RunQueues;
  host: string;
  keyPrefix: string;
  bullPrefix: string;
  dataDir: string;
  recipe: string;
  prHead: string;
  /** The release commit just before the PR head (reachable from the PR ref: an "older push"). */
  olderSha: string;
  workers: TasterWorker[];
  worker(overrides?: Partial<WorkerOptions>): TasterWorker;
  enqueue(sha: string, stages?: Tier[]): ReturnType<RunQueues["enqueue"]>;
  close(): Promise<void>;
}

export async function startEnv(): Promise<TestEnv> {
  const lab = await ensureLab();
  const id = `${process.pid}-${++counter}-${Date.now().toString(36)}`;
  const sim = await startForgeSim({ token: TOKEN });
  const dataDir = await mkdtemp(join(tmpdir(), "taster-worker-test-"));
  // A private mirror, so this test's fetches do not depend on the lab republishing its repos meanwhile.
  const recipe = join(dataDir, "hello-web.git");
  execFileSync("git", ["clone", "--quiet", "--mirror", recipeRepo(lab, "hello-web"), recipe]);
  const rev = (ref: string) => execFileSync("git", ["--git-dir", recipe, "rev-parse", ref]).toString().trim();
  const prHead = rev("refs/pull/1/head");
  const repo = `wt-${id}/hello-web`;
  sim.state.addPull(repo, { number: 1, headSha: prHead });
  const keyPrefix = `wt-${id}`;
  const bullPrefix = `wtb-${id}`;
  const redis = connectRedis(lab.redisUrl);
  await new Promise<void>((resolve) => (redis.status === "ready" ? resolve() : redis.once("ready", resolve)));
  const queues = new RunQueues({ redis, keyPrefix, bullPrefix });
  let comment = 1;
  const env: TestEnv = {
    lab,
    sim,
    repo,
    redis,
    queues,
    host: `wt${id}`.replace(/[^a-z0-9-]/g, "-"),
    keyPrefix,
    bullPrefix,
    dataDir,
    recipe,
    prHead,
    olderSha: rev("refs/pull/1/head~1"),
    workers: [],
    worker(overrides = {}) {
      const w = createWorker({
        host: env.host,
        hostUrl: lab.dockerHost,
        redisUrl: lab.redisUrl,
        forges: { github: githubReporter({ token: TOKEN, baseUrl: sim.url, botLogin: sim.state.botLogin }) },
        publicUrl: "https://taster.test",
        keyPrefix,
        bullPrefix,
        dataDir,
        recipeSource: () => recipe,
        secrets: [TOKEN],
        reportBackoff: { baseMs: 200, maxMs: 2_000, attempts: 40 },
        infraRetry: { baseMs: 500, maxMs: 1_000, attempts: 2 },
        ...overrides,
      });
      env.workers.push(w);
      return w;
    },
    enqueue(sha, stages = ["install"]) {
      const n = comment++;
      return queues.enqueue({
        forge: "github",
        repo,
        pr: 1,
        sha,
        recipe,
        stages,
        host: env.host,
        commentId: 500_000 + n,
        deliveryId: `delivery-${id}-${n}`,
        requestedBy: "alice",
        requestedAt: new Date().toISOString(),
      });
    },
    async close() {
      await Promise.all(env.workers.map((w) => w.close().catch(() => {})));
      await queues.close();
      await deleteKeys(redis, `${keyPrefix}:*`);
      await deleteKeys(redis, `${bullPrefix}:*`);
      redis.disconnect();
      await sim.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return env;
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== "0");
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The sticky comments Taster left on the PR (there must only ever be one). */
export const stickies = (env: TestEnv) =>
  env.sim.state.commentsOn(env.repo, 1).filter((c) => c.body.includes("<!-- taster:status -->"));

/** Latest status per context on a sha, as GitHub shows them. */
export function latestStatuses(
  env: TestEnv,
  sha: string,
): Record<string, { state: string; description?: string }> {
  const out: Record<string, { state: string; description?: string }> = {};
  for (const s of env.sim.state.statuses.filter((x) => x.sha === sha)) {
    out[s.context] = { state: s.state, ...(s.description ? { description: s.description } : {}) };
  }
  return out;
}

export async function residue(lab: LabInfo, stack: string): Promise<string[]> {
  const host = await connectHost(lab.dockerHost);
  try {
    return await findResidue(host, stack);
  } finally {
    await host.close();
  }
}
