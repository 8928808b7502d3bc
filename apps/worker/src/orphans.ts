import { connectHost, teardownStack } from "@taster/swarm";

/**
 * A run whose worker died left its stack behind: remove it (and verify nothing carries its label)
 * before the run is deployed again, so the retaken run starts clean and deploys exactly once.
 */
export async function removeOrphanStack(hostUrl: string | undefined, stack: string): Promise<string[]> {
  const host = await connectHost(hostUrl ?? process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock");
  try {
    return (await teardownStack(host, stack)).residue;
  } finally {
    await host.close().catch(() => {});
  }
}
