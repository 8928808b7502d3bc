import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Results, type TierResult, validateResults } from "@taster/contracts";
import { TIERS, type Tier } from "@taster/core";
import { ensureLab } from "@taster/lab";
import { connectRedis, type Redis, RunQueues } from "@taster/queue";
import express from "express";
import { type DashboardOptions, dashboardRouter } from "../src/dashboard/index";

export const HOST = "lab";
export const PUBLIC_URL = "https://taster.test";

/** A results.json as the harness writes it, validated against the real schema. */
export function sampleResults(
  recipe: string,
  level: number,
  tiers: Partial<Record<Tier, Partial<TierResult>>> = {},
  extra: Partial<Results> = {},
): Results {
  const passed = (name: string): TierResult => ({
    status: "pass",
    tests: [{ file: `${name}.test.ts`, name: `${name} works`, status: "pass", durationMs: 1_200 }],
    timings: { hookMs: 0, opMs: 4_000, assertMs: 1_300, totalMs: 5_300 },
  });
  return validateResults({
    schemaVersion: 1,
    recipe,
    repo: `coop-cloud/${recipe}`,
    pr: 1,
    sha: "0".repeat(40),
    stack: `t-${recipe}`,
    domain: `${recipe}.lab.test`,
    host: HOST,
    level,
    outcome: level === 4 ? "pass" : "fail",
    versions: { base: "1.0.0+1.0", head: "1.1.0+1.1", baseReason: "latest release before the PR" },
    tiers: Object.fromEntries(TIERS.map((t) => [t, { ...passed(t), ...tiers[t] }])),
    timings: {
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      totalMs: 95_000,
      deployMs: 20_000,
      teardownMs: 6_000,
    },
    manifest: {
      recipe,
      settingsFile: `recipes-tests/${recipe}/taster.yml`,
      upgradeBase: { base: "1.0.0+1.0", reason: "latest release before the PR" },
      backupCapable: true,
      repoLocal: { allowed: false, why: "not on the allowlist (default-deny)", treeHash: null },
      files: [
        {
          kind: "assertion",
          tier: "install",
          source: "generic",
          path: "recipes-tests/_generic/install.test.ts",
          allowed: true,
          why: "generic",
        },
        {
          kind: "custom",
          tier: "custom",
          source: "repo-local",
          path: ".taster/custom.test.ts",
          allowed: false,
          why: "repo-local code is not allowlisted",
        },
      ],
    },
    backup: null,
    residue: [],
    flags: { deployCount: 1, upgradeRedeploys: 1, cleanTeardown: true, noSecretLeak: true },
    ...extra,
  });
}

export interface SeedOptions {
  recipe: string;
  state: "queued" | "running" | "done" | "failed" | "cancelled";
  results?: Results;
  log?: string[];
  requestedBy?: string;
}

export interface DashboardFixture {
  url: string;
  queues: RunQueues;
  /** The one connection the dashboard shares for everything but live-log readers. */
  redis: Redis;
  /** Creates a run through the real queue path (enqueue → markRunning → saveResult) and returns its id. */
  seedRun(options: SeedOptions): Promise<string>;
  close(): Promise<void>;
}

async function ready(redis: Redis): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    redis.once("ready", () => resolve());
    redis.once("error", reject);
  });
}

/** Removes only this test's keys: everything under its unique prefixes. */
async function dropKeys(redis: Redis, prefixes: string[]): Promise<void> {
  for (const prefix of prefixes) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
  }
}

/** An express app with only the dashboard router, on the lab's Redis under a prefix unique to `name`. */
export async function startDashboard(
  name: string,
  extra: Partial<DashboardOptions> = {},
): Promise<DashboardFixture> {
  const lab = await ensureLab();
  const ns = `dash-${name}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const redis = connectRedis(lab.redisUrl);
  await ready(redis);
  const queues = new RunQueues({ redis, keyPrefix: ns, bullPrefix: `${ns}-bull` });
  const app = express();
  app.use(
    dashboardRouter({
      runs: queues.runs,
      logs: queues.logs,
      queues,
      hosts: [{ name: HOST, capacity: 2 }],
      publicUrl: PUBLIC_URL,
      livePollMs: 100,
      ...extra,
    }),
  );
  const server: Server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let counter = 0;

  async function seedRun(options: SeedOptions): Promise<string> {
    counter += 1;
    const { runId } = await queues.enqueue({
      forge: "github",
      repo: `coop-cloud/${options.recipe.replace(/[^\w.-]/g, "x")}`,
      pr: counter,
      sha: randomBytes(20).toString("hex"),
      recipe: options.recipe,
      stages: [...TIERS],
      host: HOST,
      commentId: counter,
      deliveryId: `${ns}-${counter}`,
      requestedBy: options.requestedBy ?? "maintainer",
      requestedAt: new Date().toISOString(),
    });
    if (options.state !== "queued") await queues.runs.markRunning(runId);
    for (const line of options.log ?? []) await queues.logs.appendLog(runId, line);
    if (options.state === "done" || options.state === "failed" || options.state === "cancelled") {
      await queues.runs.saveResult(runId, options.results ?? sampleResults(options.recipe, 0), options.state);
    }
    return runId;
  }

  return {
    url,
    queues,
    redis,
    seedRun,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await queues.close();
      await dropKeys(redis, [ns, `${ns}-bull`]);
      redis.disconnect();
    },
  };
}
