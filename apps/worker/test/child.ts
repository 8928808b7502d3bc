import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestEnv } from "./env";
import { TOKEN } from "./env";

const here = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = join(here, "..", "..", "..");

/** Starts a worker process on the test's queue with a short lock, resolved once it takes jobs. */
export async function spawnWorker(env: TestEnv, lockDurationMs: number): Promise<ChildProcess> {
  const config = {
    host: env.host,
    hostUrl: env.lab.dockerHost,
    redisUrl: env.lab.redisUrl,
    simUrl: env.sim.url,
    token: TOKEN,
    botLogin: env.sim.state.botLogin,
    keyPrefix: env.keyPrefix,
    bullPrefix: env.bullPrefix,
    dataDir: env.dataDir,
    recipe: env.recipe,
    lockDurationMs,
    stalledIntervalMs: Math.max(500, lockDurationMs / 2),
  };
  // node itself with tsx's loader (not the tsx CLI, which forks a second process that kill -9 would miss).
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(here, "worker-child.ts"), JSON.stringify(config)],
    {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" },
    },
  );
  child.stderr?.on("data", (d) => process.env.TASTER_TEST_VERBOSE && process.stderr.write(d));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      if (out.includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`worker child exited early (${code})`)));
  });
  return child;
}

export function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}
