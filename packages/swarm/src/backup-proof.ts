import { posix } from "node:path";
import { recipeError } from "@taster/core";
import { copyFromService } from "./archive";
import {
  type ArtifactPath,
  artifactPaths,
  DEFAULT_BACKUP_MAX_BYTES,
  MARKER_FILE,
  type PathChecksum,
  writeInService,
} from "./backup";
import { containerPath, volumePath } from "./backup-labels";
import { fileDigests, pathChecksum } from "./backup-tar";
import type { Host } from "./host";
import type { Plan } from "./plan";

/**
 * The generic proof that a backup round-trips, whatever the path selection: the content checksum
 * of every backed-up path is recorded at backup, changed after it, and must be back after the
 * restore. Works for a whole volume, a sub-directory or a single dump file alike.
 */
export const CHANGED_CONTENT = "changed-after-backup";

/** One path's checksums through the round trip. */
export interface RoundTripChecksum {
  path: string;
  files: number;
  backedUp: string;
  changed: string;
  restored: string;
}

/**
 * Changes every backed-up path after the backup: Taster's own marker where the path has one (a
 * directory), else the path's first file (a dump); returns each path's checksum read back, over
 * the files the backup holds. A path whose checksum did not move is an error: the proof would be void.
 */
export async function changeBackedUp(
  host: Host,
  plan: Plan,
  artifact: { path: string },
): Promise<PathChecksum[]> {
  const changed: PathChecksum[] = [];
  for (const saved of await artifactPaths(plan, artifact)) changed.push(await changeOne(host, plan, saved));
  return changed;
}

async function changeOne(
  host: Host,
  plan: Plan,
  { volume, relative, tar }: ArtifactPath,
): Promise<PathChecksum> {
  const path = volumePath(volume.volume, relative);
  const expected = await fileDigests(tar);
  const names = [...expected.keys()].sort();
  if (names.length === 0) return { path, checksum: pathChecksum(names, expected), files: 0 };
  const where = containerPath(volume, relative);
  const marker = names.find((name) => posix.basename(name) === MARKER_FILE && name.split("/").length === 2);
  const target = posix.join(posix.dirname(where), marker ?? (names[0] as string));
  await writeInService(host, plan.stack, volume.service, target, CHANGED_CONTENT);
  const readBack = await copyFromService(host, plan.stack, volume.service, where, DEFAULT_BACKUP_MAX_BYTES);
  const actual = await fileDigests(readBack);
  const checksum = pathChecksum(names, actual);
  if (checksum === pathChecksum(names, expected)) {
    throw recipeError(
      `changing ${target} in service ${volume.service} did not change ${path}: the round trip cannot be proven`,
    );
  }
  return { path, checksum, files: names.length };
}

/**
 * Puts the three checksums of every path side by side; fails unless each path changed after the
 * backup (or was empty) and has its backed-up checksum again after the restore.
 */
export function roundTripProof(
  backedUp: PathChecksum[],
  changed: PathChecksum[],
  restored: PathChecksum[],
): { checksums: RoundTripChecksum[]; summary: string } {
  const checksums = backedUp.map((b) => ({
    path: b.path,
    files: b.files,
    backedUp: b.checksum,
    changed: changed.find((c) => c.path === b.path)?.checksum ?? "missing",
    restored: restored.find((r) => r.path === b.path)?.checksum ?? "missing",
  }));
  const notBack = checksums.filter((c) => c.restored !== c.backedUp).map((c) => c.path);
  if (notBack.length > 0) {
    throw recipeError(
      `after the restore, ${notBack.join(", ")} do(es) not have the backed-up content checksum`,
    );
  }
  const list = checksums.map((c) => `${c.path} (${c.files} file(s), ${c.backedUp.slice(0, 12)})`).join(", ");
  return {
    checksums,
    summary: `checksums: ${checksums.length} path(s) backed up, changed after the backup, and back after the restore: ${list}`,
  };
}
