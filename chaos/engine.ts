/**
 * Restarts the lab's Docker engine the way a crash-and-restart looks to Taster: the dockerd that
 * `lab.sh up` started (its pid is in the lab's state dir) is stopped, then `lab.sh up` starts a new
 * one; swarm state (services, secrets, networks) survives on disk. This disturbs every test on the
 * machine for a few seconds: only the engine-restart scenario calls it, once per round.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureLab, LAB_SCRIPT } from "@taster/lab";

const run = promisify(execFile);

/** Stops the lab's dockerd, waits `downMs`, brings it back; resolves once the engine answers again. */
export async function restartLabEngine(downMs: number): Promise<{ pid: number; downSeconds: number }> {
  const lab = await ensureLab();
  const pid = Number((await readFile(join(lab.stateDir, "dockerd.pid"), "utf8")).trim());
  if (!(pid > 0) || !alive(pid)) throw new Error("the lab's dockerd is not running from its pid file");
  const stopped = Date.now();
  // Holding the lab's lock while dockerd shuts down: a concurrent `lab.sh up` (another test's
  // ensureLab) must not start a second dockerd while the first still holds the socket.
  const stopScript = `kill ${pid}; for i in $(seq 150); do kill -0 ${pid} 2>/dev/null || exit 0; sleep 0.2; done; kill -9 ${pid}; sleep 1`;
  await run("flock", [join(lab.stateDir, ".lock"), "sh", "-c", stopScript]);
  await new Promise((r) => setTimeout(r, downMs));
  await run(LAB_SCRIPT, ["up"], { maxBuffer: 16 * 1024 * 1024 });
  return { pid, downSeconds: Math.round((Date.now() - stopped) / 1000) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
