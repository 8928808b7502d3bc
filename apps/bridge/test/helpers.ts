import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { createLogger } from "@taster/core";
import { GiteaForge, GithubForge } from "@taster/forge";
import type { ForgeSim } from "@taster/forge-sim";
import { connectRedis, type Redis } from "@taster/queue";
import { type Bridge, type BridgeConfig, createBridge, loadBridgeConfig } from "../src/index";

export const REPO = "coop-cloud/hello-web";
export const GITEA_REPO = "coop-cloud/notes";
export const SECRET = "s3cret-webhook";
export const OLD_SECRET = "0ld-rotated-secret";
export const GITEA_SECRET = "g1tea-secret";
export const TOKEN = "forge-t0ken";

export const randomSha = () => randomBytes(20).toString("hex");

export function testConfig(
  sim: ForgeSim,
  redisUrl: string,
  ns: string,
  extra: Record<string, string> = {},
): BridgeConfig {
  return loadBridgeConfig({
    TASTER_PORT: "0",
    TASTER_REDIS_URL: redisUrl,
    TASTER_PUBLIC_URL: "https://taster.test",
    TASTER_GITHUB_WEBHOOK_SECRET: `${SECRET},${OLD_SECRET}`,
    TASTER_GITHUB_TOKEN: TOKEN,
    TASTER_GITHUB_API_URL: sim.url,
    TASTER_GITEA_URL: sim.url,
    TASTER_GITEA_TOKEN: TOKEN,
    TASTER_GITEA_WEBHOOK_SECRET: GITEA_SECRET,
    TASTER_HOSTS: "lab=unix:///var/run/docker.sock@2",
    TASTER_ENROLLED_REPOS: `${REPO},gitea:${GITEA_REPO}`,
    TASTER_RECONCILE_INTERVAL_SEC: "0",
    TASTER_TRIGGERERS_FILE: "/nonexistent/triggerers.yml",
    TASTER_REDIS_PREFIX: ns,
    TASTER_BULL_PREFIX: `${ns}-bull`,
    ...extra,
  });
}

/**
 * A bridge whose forge clients retry fast and skip GitHub's 1 s write spacing, and whose intake
 * retries after 100 ms, 200 ms, … instead of seconds (tests only).
 */
export function testBridge(
  config: BridgeConfig,
  sim: ForgeSim,
  redis?: Redis,
  intake: { attempts?: number; backoffMs?: number } = { attempts: 10, backoffMs: 100 },
): Promise<Bridge> {
  const common = { token: TOKEN, botLogin: "taster-bot", retryBaseMs: 5, trust: config.trust };
  return createBridge(config, {
    ...(redis ? { redis } : {}),
    logger: quietLogger(),
    intake,
    forges: {
      github: new GithubForge({ ...common, baseUrl: sim.url, writeMinTimeMs: 0, notificationsMinTimeMs: 0 }),
      gitea: new GiteaForge({ ...common, url: sim.url }),
    },
  });
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Stops a test's bridge and forge simulator and removes its Redis keys (`ns*`). The bridge's own
 * connection is closed first, so its worker cannot write after the clean-up.
 */
export async function closeTestBridge(bridge: Bridge, sim: ForgeSim, redisUrl: string, ns: string) {
  await bridge.settled();
  await bridge.stop();
  const redis = connectRedis(redisUrl);
  await waitFor(async () => redis.status === "ready", "a clean-up connection to Redis");
  const keys = await redis.keys(`${ns}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await sim.close();
}

/** Bridge logs go to stderr; keep test output readable unless TASTER_LOG_LEVEL asks for them. */
function quietLogger() {
  const level = process.env.TASTER_LOG_LEVEL;
  process.env.TASTER_LOG_LEVEL = level ?? "silent";
  const logger = createLogger("bridge-test");
  if (level === undefined) delete process.env.TASTER_LOG_LEVEL;
  return logger;
}
