import { withRunningContainer } from "./exec";
import type { Host } from "./host";

/** `path` from a running container of `<stack>_<service>`, as a tar stream's bytes (docker cp semantics). */
export async function copyFromService(
  host: Host,
  stack: string,
  service: string,
  path: string,
): Promise<Buffer> {
  return withRunningContainer(host, stack, service, undefined, async (container) => {
    const stream = await container.getArchive({ path });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  });
}

/** Unpacks `tar` into directory `dir` of a running container of `<stack>_<service>`. */
export async function copyToService(
  host: Host,
  stack: string,
  service: string,
  dir: string,
  tar: Buffer,
): Promise<void> {
  await withRunningContainer(host, stack, service, undefined, async (container) => {
    await container.putArchive(tar, { path: dir });
  });
}
