import { createHash } from "node:crypto";
import { extract, pack } from "tar-stream";

export interface TarEntry {
  name: string;
  type: string;
  data: Buffer;
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** One tar of named files, with a fixed mtime: the same content gives the same bytes (and sha256). */
export async function packTar(files: { name: string; data: Buffer }[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on("data", (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const finished = new Promise<void>((resolve, reject) => {
    archive.on("end", resolve);
    archive.on("error", reject);
  });
  for (const file of files)
    archive.entry({ name: file.name, size: file.data.length, mtime: new Date(0) }, file.data);
  archive.finalize();
  await finished;
  return Buffer.concat(chunks);
}

/** Every entry of a tar held in memory (Taster's own artifacts and docker cp archives, both capped). */
export async function readTar(data: Buffer): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on("finish", resolve);
    reader.on("error", reject);
  });
  reader.on("entry", (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: unknown) => {
      chunks.push(chunk as Buffer);
    });
    stream.on("end", () => {
      entries.push({ name: header.name, type: header.type ?? "file", data: Buffer.concat(chunks) });
      next();
    });
  });
  reader.end(data);
  await done;
  return entries;
}

/** sha256 of every regular file in a tar, by name. */
export async function fileDigests(tar: Buffer): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const entry of await readTar(tar))
    if (entry.type === "file") digests.set(entry.name, sha256(entry.data));
  return digests;
}

/**
 * One checksum for a backed-up path: over the files `names` (those the backup holds), each with
 * its content digest in `digests`, or "missing". The same names read back from the container give
 * the same checksum exactly when every backed-up file has its backed-up content.
 */
export function pathChecksum(names: string[], digests: Map<string, string>): string {
  const lines = [...names].sort().map((name) => `${name}\0${digests.get(name) ?? "missing"}\n`);
  return sha256(lines.join(""));
}
