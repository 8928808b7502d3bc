import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, errorMessage, freshStackOf } from "@taster/core";
import { type ConnectOptions, connectHost, teardownStack } from "@taster/swarm";

const log = createLogger("worker");

/**
 * The parent of a run's harness workspace: named by the deployment (its Redis key prefix: run ids
 * are unique only within one) and the run, so whoever retakes or concludes the run after its
 * worker died (kill -9 skips the harness's own clean-up) can find and remove it.
 */
export const workRootFor = (keyPrefix: string, runId: string): string =>
  join(tmpdir(), "taster-runs", `${keyPrefix}-${runId}`.replace(/[^A-Za-z0-9._-]/g, "-"));

/** Removes what a run left on this machine's disk (its workspace and checkout). */
export async function removeOrphanWorkspace(keyPrefix: string, runId: string): Promise<void> {
  await rm(workRootFor(keyPrefix, runId), { recursive: true, force: true });
}

/**
 * A run whose worker died left its stack behind: remove it (and verify nothing carries its label)
 * before the run is deployed again, so the retaken run starts clean and deploys exactly once.
 */
export async function removeOrphanStack(
  hostUrl: string | undefined,
  stack: string,
  hostOptions: ConnectOptions = {},
): Promise<string[]> {
  const url = hostUrl ?? process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  const host = await connectHost(url, hostOptions);
  try {
    // The run's fresh stack too, if it died while that one was up.
    const residue = (await teardownStack(host, stack)).residue;
    return [...residue, ...(await teardownStack(host, freshStackOf(stack))).residue];
  } finally {
    await host
      .close()
      .catch((error) => log.debug({ stack, reason: errorMessage(error) }, "docker connection not closed"));
  }
}
