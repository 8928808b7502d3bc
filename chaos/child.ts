/** Starts and stops worker processes on a World's queue (for kill -9). */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface ChildConfig {
  host: string;
  hostUrl: string;
  redisUrl: string;
  forgeUrl: string;
  token: string;
  botLogin: string;
  publicUrl: string;
  keyPrefix: string;
  bullPrefix: string;
  dataDir: string;
  recipe: string;
  secrets: string[];
  lockDurationMs: number;
}

const here = fileURLToPath(new URL(".", import.meta.url));

/** Resolves once the child takes jobs; rejects if it exits first or is not ready in 60 s. */
export async function spawnWorker(config: ChildConfig): Promise<ChildProcess> {
  // node with tsx's loader, not the tsx CLI: that forks a second process kill -9 would miss.
  const child = spawn(process.execPath, ["--import", "tsx", join(here, "worker-child.ts")], {
    cwd: join(here, ".."),
    // The config holds the forge token and Redis password: stdin, never the command line (ps).
    stdio: ["pipe", "pipe", "ignore"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  child.stdin?.end(JSON.stringify(config));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("worker child not ready within 60s")), 60_000);
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      if (out.includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`worker child exited early (${code})`));
    });
  });
  return child;
}

/** Stops a child (SIGTERM, then SIGKILL after 30 s) and resolves once it is gone. */
export function stopWorker(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}
