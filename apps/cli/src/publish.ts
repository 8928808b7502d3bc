/**
 * `taster run --publish`: store a local run's verdict and log where the dashboard reads runs (the
 * run store in Redis), so a reviewer can open it like a `!testme` run. The target is the Redis the
 * bridge reads: TASTER_REDIS_URL and TASTER_REDIS_PREFIX (the bridge's variables), else the lab's.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname, userInfo } from "node:os";
import { readConfig } from "@taster/config";
import { errorMessage, type Stage } from "@taster/core";
import type { Results } from "@taster/harness";
import { ensureLab } from "@taster/lab";
import { connectRedis, Keys, type LocalRunJob, RunLog, RunStore } from "@taster/queue";

export interface PublishTarget {
  redisUrl: string;
  prefix: string;
  /** Where the dashboard of that Redis answers: TASTER_PUBLIC_URL, else `taster bridge`'s default port. */
  publicUrl: string;
}

/** The bridge's own variables when set (so a local dashboard and `--publish` agree), else the lab. */
export async function publishTarget(env: NodeJS.ProcessEnv = process.env): Promise<PublishTarget> {
  const config = readConfig(env);
  return {
    // A local run is published to the lab unless told otherwise (not to the bridge's default Redis).
    redisUrl: config.given.has("TASTER_REDIS_URL") ? config.redis.url : (await ensureLab()).redisUrl,
    prefix: config.redis.keyPrefix,
    publicUrl: config.bridge.publicUrl,
  };
}

/** A Redis URL fit to print: the password is never shown. */
export const safeRedisUrl = (url: string): string => url.replace(/\/\/([^@/]*)@/, "//***@");

/** A run id the dashboard accepts ([a-z0-9-]), telling local runs apart at a glance. */
function localRunId(recipe: string): string {
  const slug = recipe
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 30);
  return `local-${slug || "recipe"}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

async function ready(redis: ReturnType<typeof connectRedis>, url: string): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis at ${safeRedisUrl(url)} did not answer`)), 5_000);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Stores the run (finished) and its run.log; returns the run id. */
export async function publishRun(
  target: PublishTarget,
  results: Results,
  stages: Stage[],
  runLogPath: string,
): Promise<string> {
  const runId = localRunId(results.recipe);
  const redis = connectRedis(target.redisUrl);
  redis.on("error", () => {}); // a failure surfaces as the rejection below, once
  try {
    await ready(redis, target.redisUrl);
    const keys = new Keys(target.prefix);
    const log = new RunLog(redis, keys);
    // The log first: the dashboard treats a finished run's log as complete.
    const text = await readFile(runLogPath, "utf8").catch(() => "");
    for (const line of text.split("\n").filter((l, i, all) => l !== "" || i < all.length - 1)) {
      await log.appendLog(runId, line);
    }
    const startedAt = Date.parse(results.timings.startedAt);
    const finishedAt = Date.parse(results.timings.finishedAt);
    const job: LocalRunJob = {
      runId,
      forge: "local",
      repo: results.repo,
      pr: results.pr,
      sha: results.sha,
      recipe: results.recipe,
      stages,
      host: results.host,
      commentId: 0,
      deliveryId: runId,
      requestedBy: `${userInfo().username}@${hostname()}`,
      requestedAt: results.timings.startedAt,
    };
    await new RunStore(redis, keys).recordFinished({
      runId,
      job,
      state: results.outcome === "pass" ? "done" : "failed",
      createdAt: startedAt,
      startedAt,
      finishedAt,
      result: results,
    });
    return runId;
  } finally {
    redis.disconnect();
  }
}

/**
 * `run --publish`: publishes and says where to see it; on failure says why (the results stay on
 * disk) and returns false, so the command exits 2 (infrastructure) rather than pretend.
 */
export async function publishAndSay(results: Results, stages: Stage[], runLogPath: string): Promise<boolean> {
  try {
    const target = await publishTarget();
    const runId = await publishRun(target, results, stages, runLogPath);
    process.stdout.write(
      `published: run ${runId} to ${safeRedisUrl(target.redisUrl)} (prefix ${target.prefix}); ` +
        `on the dashboard: ${target.publicUrl}/runs/${runId}\n`,
    );
    return true;
  } catch (error) {
    process.stderr.write(
      `taster: --publish failed: ${errorMessage(error)} (results stay in ${runLogPath})\n`,
    );
    return false;
  }
}
