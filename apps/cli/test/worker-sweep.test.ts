/**
 * A scheduled sweep end to end through the real `taster worker` process: the worker upserts its
 * host's job scheduler at start, BullMQ adds the sweep job when the cron fires, the worker runs the
 * sweep on the lab, keeps its summary in Redis, writes sweep.json under TASTER_DATA_DIR, and posts
 * the level change to the webhook. Nothing of the sweep is left on the host.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Sweep } from "@taster/contracts";
import { ensureLab, type LabInfo } from "@taster/lab";
import { connectRedis, SweepStore } from "@taster/queue";
import { connectHost, findResidue } from "@taster/swarm";

const TASTER = join(import.meta.dirname, "..", "..", "..", "taster");
const SWEEP_TIMEOUT_MS = 300_000;

const count = (text: string, line: string) => text.split(line).length - 1;

const ready = (redis: ReturnType<typeof connectRedis>) =>
  new Promise<void>((resolve) =>
    redis.status === "ready" ? resolve() : redis.once("ready", () => resolve()),
  );

/**
 * Every 20 s (6 fields, seconds first): the first fires soon after the worker is up, however long
 * its start took; the next is due by the time the first sweep ends, so the shutdown stops one.
 */
const EVERY_20_SECONDS = "*/20 * * * * *";

/** Collects the JSON bodies POSTed to it: the chat bridge that takes level-change notices. */
async function startWebhookReceiver(): Promise<{ server: Server; url: string; notices: unknown[] }> {
  const notices: unknown[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      notices.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, notices };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
}

/** A previous sweep that saw hello-web at L2, so today's green sweep is a level change (up). */
function previousSweep(): Sweep {
  const at = new Date(Date.now() - 7 * 86_400_000).toISOString();
  return {
    schemaVersion: 1,
    host: "lab",
    startedAt: at,
    finishedAt: at,
    attempts: 0,
    recipes: [
      {
        recipe: "hello-web",
        repo: "coop-cloud/hello-web",
        version: "1.0.0+1.0",
        base: null,
        sha: null,
        level: 2,
        verdict: "fail",
        tiers: {},
        classification: "genuine",
        startedAt: at,
        durationMs: 1,
      },
    ],
  } as Sweep;
}

describe("taster worker: a scheduled sweep, end to end", () => {
  let lab: LabInfo;
  let worker: ChildProcess | undefined;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const prefix = `wsweep-${process.pid}-${Date.now().toString(36)}`;
  const dataDir = join(tmpdir(), prefix);
  let stderr = "";
  let redis: ReturnType<typeof connectRedis> | undefined;

  beforeAll(async () => {
    lab = await ensureLab();
    receiver = await startWebhookReceiver();
  });

  afterAll(async () => {
    // The whole group: `taster` runs the CLI through tsx, which forks node.
    if (worker?.pid && worker.exitCode === null) process.kill(-worker.pid, "SIGKILL");
    receiver?.server.close();
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    "fires from the worker's job scheduler, runs on the host, lands in the store, the data dir and the webhook",
    async () => {
      redis = connectRedis(lab.redisUrl);
      await ready(redis);
      const store = new SweepStore(redis, prefix);
      await store.save(previousSweep());

      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TASTER_")));
      const started = Date.now();
      worker = spawn(TASTER, ["worker", "--host", "lab"], {
        env: {
          ...env,
          TASTER_HOSTS: `lab=${lab.dockerHost}@1`,
          TASTER_PROBE_IMAGES: `lab=${lab.images.probe}`,
          TASTER_REDIS_URL: lab.redisUrl,
          TASTER_REDIS_PREFIX: prefix,
          TASTER_BULL_PREFIX: `${prefix}-bull`,
          TASTER_ENROLLED_REPOS: "coop-cloud/hello-web",
          TASTER_RECIPE_SOURCE: join(lab.recipesDir, "{recipe}.git"),
          TASTER_DATA_DIR: dataDir,
          TASTER_SWEEP_SCHEDULE: EVERY_20_SECONDS,
          TASTER_SWEEP_ATTEMPTS: "0",
          TASTER_SWEEP_WEBHOOK_URL: receiver.url,
          // The sweep reports to no forge; the worker still needs one to start.
          TASTER_GITHUB_TOKEN: "unused-by-sweeps",
        },
        stdio: ["ignore", "ignore", "pipe"],
        detached: true,
      });
      worker.stderr?.on("data", (chunk) => {
        stderr += chunk;
        if (process.env.TASTER_TEST_VERBOSE) process.stderr.write(chunk);
      });

      const sweep = await until(
        "the scheduled sweep's summary in Redis",
        async () => {
          if (worker?.exitCode !== null)
            throw new Error(`the worker exited (${worker?.exitCode}):\n${stderr}`);
          const [newest] = await store.recent(1);
          return newest && Date.parse(newest.startedAt) >= started ? newest : undefined;
        },
        SWEEP_TIMEOUT_MS,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; the worker said:\n${stderr.slice(-4_000)}`);
      });

      // The release as shipped: the newest lab release, upgraded from the one before, all green.
      expect(sweep.recipes).toHaveLength(1);
      const [row] = sweep.recipes;
      expect(row).toMatchObject({ recipe: "hello-web", version: "1.1.0+1.1", verdict: "pass", level: 4 });
      expect(row?.base).toBe("1.0.0+1.0");
      expect(stderr).toContain("sweep: starting");

      const [dir] = (await readdir(join(dataDir, "sweeps"))).sort();
      const onDisk = JSON.parse(await readFile(join(dataDir, "sweeps", dir as string, "sweep.json"), "utf8"));
      expect(onDisk.recipes[0]).toMatchObject({ recipe: "hello-web", level: 4, verdict: "pass" });

      await until("the level-change notice", async () => receiver.notices[0], 10_000);
      expect(receiver.notices).toEqual([
        expect.objectContaining({
          recipe: "hello-web",
          from: 2,
          to: 4,
          text: "hello-web 1.1.0+1.1: level up L2 → L4 (pass)",
        }),
      ]);

      // The next one is due already; a shutdown part-way through it keeps nothing of it and requeues it.
      await until(
        "the second scheduled sweep",
        async () => (count(stderr, "sweep: starting") >= 2 ? true : undefined),
        60_000,
      );
      worker.kill("SIGTERM");
      const code = await new Promise<number | null>((resolve) => worker?.once("exit", resolve));
      expect(code).toBe(0);
      expect(stderr).toContain("sweep: stopped by the shutdown; requeued");
      const kept = (await store.recent(5)).filter((s) => Date.parse(s.startedAt) >= started);
      expect(kept).toHaveLength(1);
      expect(receiver.notices).toHaveLength(1);

      // Both sweeps tore their stack (the same name: the same release) down: nothing is left on the host.
      const results = JSON.parse(
        await readFile(join(dataDir, "sweeps", dir as string, row?.results as string), "utf8"),
      );
      expect(results.stack).toMatch(/^t[0-9a-f]{10}$/);
      const host = await connectHost(lab.dockerHost);
      try {
        expect(await findResidue(host, results.stack)).toEqual([]);
      } finally {
        await host.close();
      }
    },
    SWEEP_TIMEOUT_MS + 60_000,
  );
});
