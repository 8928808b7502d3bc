import { withRunningContainer } from "./exec";
import type { Host } from "./host";

/** An archive that grew past the bytes its reader allowed: reading stopped there. */
export class ArchiveTooLarge extends Error {
  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {
    super(`the archive of ${path} is larger than ${maxBytes} bytes`);
    this.name = "ArchiveTooLarge";
  }
}

/**
 * `path` from a running container of `<stack>_<service>`, as a tar stream's bytes (docker cp
 * semantics). More than `maxBytes` (default: no limit) stops the read with ArchiveTooLarge.
 */
export async function copyFromService(
  host: Host,
  stack: string,
  service: string,
  path: string,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<Buffer> {
  return withRunningContainer(host, stack, service, undefined, async (container) => {
    const stream = await container.getArchive({ path });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      // Leaving the loop destroys the stream: the rest is never read.
      if (size > maxBytes) throw new ArchiveTooLarge(path, maxBytes);
      chunks.push(chunk as Buffer);
    }
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
