import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { recipeError } from "@taster/core";
import { ArchiveTooLarge, copyFromService, copyToService } from "./archive";
import {
  type BackupSelection,
  backupSelection,
  containerPath,
  type HookLabel,
  type VolumeSelection,
  volumePath,
} from "./backup-labels";
import { fileDigests, packTar, pathChecksum, readTar } from "./backup-tar";
import { formatBytes } from "./capped";
import { execInService } from "./exec";
import type { Host } from "./host";
import type { Plan } from "./plan";

export * from "./backup-labels";

/** What one backup artifact holds for one volume: the service it went through, its `<volume>/<path>`s. */
export interface BackupEntry {
  service: string;
  paths: string[];
}

/** The content checksum of one backed-up path (see pathChecksum) and how many files it holds. */
export interface PathChecksum {
  /** `<volume>/<relative path>`, or `<volume>` for the whole volume. */
  path: string;
  checksum: string;
  files: number;
}

/** A file Taster wrote into a backed-up directory before the backup, so that every such path holds a known file. */
export interface BackupMarker {
  service: string;
  path: string;
  value: string;
}

export interface BackupArtifact {
  path: string;
  size: number;
  sha256: string;
  entries: BackupEntry[];
  checksums: PathChecksum[];
  markers: BackupMarker[];
}

export interface BackupOptions {
  /** Most bytes the whole artifact may hold (default DEFAULT_BACKUP_MAX_BYTES). */
  maxBytes?: number;
}

/** A test deployment's data is small; more than this is a runaway volume, not a backup to keep in memory. */
export const DEFAULT_BACKUP_MAX_BYTES = 256 * 1024 * 1024;

const MANIFEST = "manifest.json";
export const MARKER_FILE = ".taster-marker";

/** The artifact's manifest: per volume, the relative paths saved as `volumes/<v>/<p>.tar`. */
interface Manifest {
  stack: string;
  volumes: { volume: string; paths: string[] }[];
}

function selectionOf(plan: Plan): BackupSelection {
  const selection = backupSelection(plan);
  if (!selection)
    throw recipeError(`${plan.stack} is not backup-capable: no service has backupbot.backup=true`);
  return selection;
}

/** Hooks run with `/bin/sh -c` in their own service's container, like backup-bot-two's. */
async function runHooks(host: Host, plan: Plan, selection: BackupSelection, hook: HookLabel): Promise<void> {
  for (const call of selection.hooks[hook]) {
    const result = await execInService(host, plan.stack, call.service, ["/bin/sh", "-c", call.command]);
    if (result.exitCode !== 0) {
      throw recipeError(
        `${call.label} on service ${call.service} failed with exit code ${result.exitCode}: ${(result.stderr || result.stdout).trim()}`,
      );
    }
  }
}

/** `volume <name> (<container path>)`, or `volume <name>, path <p> (<container path>)`. */
function describe(volume: VolumeSelection, relative: string): string {
  const where = containerPath(volume, relative);
  return relative === "."
    ? `volume ${volume.volume} (${where})`
    : `volume ${volume.volume}, path ${relative} (${where})`;
}

/**
 * Backs up the stack the way backup-bot-two would: every backup pre-hook (any service), every
 * selected path of every volume, every post-hook; into one tar artifact in `artifactDir`
 * (`manifest.json` plus one tar per path). Before the hooks, each selected path that is a
 * directory gets a marker file, so that every path holds a file the round-trip proof can change.
 */
export async function backupStack(
  host: Host,
  plan: Plan,
  artifactDir: string,
  options: BackupOptions = {},
): Promise<BackupArtifact> {
  const maxBytes = options.maxBytes ?? DEFAULT_BACKUP_MAX_BYTES;
  const selection = selectionOf(plan);
  if (selection.volumes.length === 0) {
    throw recipeError(
      `backupbot.backup=true is on service ${selection.labelledService}, but the stack has no volume to back up (none, or all excluded)`,
      "add the volume that holds the app's data, or remove backupbot.backup=true",
    );
  }
  const markers = await seedMarkers(host, plan, selection.volumes);
  await runHooks(host, plan, selection, "preHook");
  let saved = 0;
  const files: { name: string; data: Buffer }[] = [];
  const checksums: PathChecksum[] = [];
  for (const [v, volume] of selection.volumes.entries()) {
    for (const [p, relative] of volume.paths.entries()) {
      const data = await copyFromService(
        host,
        plan.stack,
        volume.service,
        containerPath(volume, relative),
        maxBytes - saved,
      ).catch((error: unknown) => {
        if (!(error instanceof ArchiveTooLarge)) throw error;
        throw recipeError(
          `backup of ${describe(volume, relative)} on service ${volume.service} is too large: the whole backup may hold at most ${formatBytes(maxBytes)} (${formatBytes(saved)} already saved)`,
          "raise backupMaxMiB in the recipe's taster.yml, or leave the volume out with backupbot.backup.volumes.<volume>=false",
        );
      });
      saved += data.length;
      files.push({ name: `volumes/${v}/${p}.tar`, data });
      const digests = await fileDigests(data);
      checksums.push({
        path: volumePath(volume.volume, relative),
        checksum: pathChecksum([...digests.keys()], digests),
        files: digests.size,
      });
    }
  }
  await runHooks(host, plan, selection, "postHook");
  const manifest: Manifest = {
    stack: plan.stack,
    volumes: selection.volumes.map((v) => ({ volume: v.volume, paths: v.paths })),
  };
  const data = await packTar([{ name: MANIFEST, data: Buffer.from(JSON.stringify(manifest)) }, ...files]);
  const path = join(artifactDir, `${plan.stack}-backup.tar`);
  await writeFile(path, data);
  const entries = selection.volumes.map((v) => ({
    service: v.service,
    paths: v.paths.map((relative) => volumePath(v.volume, relative)),
  }));
  const sha256 = createHash("sha256").update(data).digest("hex");
  return { path, size: data.length, sha256, entries, checksums, markers };
}

/** A marker with a fresh value in each selected path that is a directory in the running container. */
async function seedMarkers(host: Host, plan: Plan, volumes: VolumeSelection[]): Promise<BackupMarker[]> {
  const markers: BackupMarker[] = [];
  for (const volume of volumes) {
    for (const relative of volume.paths) {
      const dir = containerPath(volume, relative);
      const isDir = await execInService(host, plan.stack, volume.service, ["test", "-d", dir]);
      if (isDir.exitCode !== 0) continue;
      const marker = {
        service: volume.service,
        path: posix.join(dir, MARKER_FILE),
        value: `taster-marker-${randomBytes(8).toString("hex")}`,
      };
      await writeInService(host, plan.stack, marker.service, marker.path, marker.value);
      markers.push(marker);
    }
  }
  return markers;
}

/** Writes `value` to `path` in the service's container (creating its directory), or fails naming both. */
export async function writeInService(
  host: Host,
  stack: string,
  service: string,
  path: string,
  value: string,
): Promise<void> {
  const script = 'mkdir -p "$(dirname "$2")" && printf %s "$1" > "$2"';
  const result = await execInService(host, stack, service, ["sh", "-c", script, "sh", value, path]);
  if (result.exitCode !== 0) {
    throw recipeError(
      `could not write ${path} in service ${service} (exit ${result.exitCode}): ${(result.stderr || result.stdout).trim()}`,
    );
  }
}

/** One backed-up path of an artifact, where it goes back, and the tar that holds it. */
export interface ArtifactPath {
  volume: VolumeSelection;
  relative: string;
  tar: Buffer;
}

/**
 * The paths of an artifact, each matched with the volume's mount in the plan as it is now (the
 * stack may have been upgraded since the backup: a volume goes back wherever it is mounted now).
 */
export async function artifactPaths(plan: Plan, artifact: { path: string }): Promise<ArtifactPath[]> {
  const files = new Map((await readTar(await readFile(artifact.path))).map((e) => [e.name, e.data]));
  const raw = files.get(MANIFEST);
  if (!raw) throw recipeError(`${artifact.path} is not a Taster backup artifact (no ${MANIFEST})`);
  const manifest = JSON.parse(raw.toString("utf8")) as Manifest;
  const paths: ArtifactPath[] = [];
  for (const [v, saved] of manifest.volumes.entries()) {
    const volume = mountOf(plan, saved.volume);
    for (const [p, relative] of saved.paths.entries()) {
      const tar = files.get(`volumes/${v}/${p}.tar`);
      if (!tar) throw recipeError(`${artifact.path} lacks the tar of ${volumePath(saved.volume, relative)}`);
      paths.push({ volume, relative, tar });
    }
  }
  return paths;
}

function mountOf(plan: Plan, volume: string): VolumeSelection {
  for (const service of plan.services) {
    const mount = service.mounts.find(
      (m) => m.type === "volume" && (m.source === `${plan.stack}_${volume}` || m.source === volume),
    );
    if (mount) return { volume, service: service.name, target: mount.target, paths: [] };
  }
  throw recipeError(`the backup holds volume ${volume}, which no service of ${plan.stack} mounts`);
}

/** What a restore put back, checked file by file against the artifact. */
export interface RestoreReport {
  /** Regular files put back and read back identical, over all paths. */
  files: number;
  /** The `<volume>/<path>`s put back. */
  paths: string[];
  /** Each path's content checksum read back after the restore (before the restore post-hooks). */
  checksums: PathChecksum[];
}

/**
 * Restores an artifact from backupStack: every restore pre-hook (any service), each path back into
 * its volume, every restore post-hook. Before the post-hooks (which may load a dump and delete
 * it), every path is read back and each of its files compared with the artifact: a restore that
 * did not really put the data back fails here.
 */
export async function restoreStack(
  host: Host,
  plan: Plan,
  artifact: { path: string },
): Promise<RestoreReport> {
  const paths = await artifactPaths(plan, artifact);
  const selection = selectionOf(plan);
  const report: RestoreReport = { files: 0, paths: [], checksums: [] };
  await runHooks(host, plan, selection, "restorePreHook");
  for (const { volume, relative, tar } of paths) {
    const where = containerPath(volume, relative);
    // docker cp archives hold the path's last component at the top: unpack into its parent.
    await copyToService(host, plan.stack, volume.service, posix.dirname(where), tar);
    const checked = await verifyRestored(host, plan, volume, relative, tar);
    report.files += checked.files;
    report.paths.push(checked.path);
    report.checksums.push(checked);
  }
  await runHooks(host, plan, selection, "restorePostHook");
  return report;
}

/** Reads the path back from its volume and compares every regular file with the artifact's. */
async function verifyRestored(
  host: Host,
  plan: Plan,
  volume: VolumeSelection,
  relative: string,
  tar: Buffer,
): Promise<PathChecksum> {
  const expected = await fileDigests(tar);
  const where = containerPath(volume, relative);
  // Capped like the backup: the app may have grown the path since.
  const readBack = await copyFromService(host, plan.stack, volume.service, where, DEFAULT_BACKUP_MAX_BYTES);
  const actual = await fileDigests(readBack);
  const differ = [...expected].filter(([name, digest]) => actual.get(name) !== digest).map(([name]) => name);
  if (differ.length > 0) {
    throw recipeError(
      `restore did not put ${describe(volume, relative)} back on service ${volume.service}: ${differ.length} of ${expected.size} file(s) differ from the backup (first: ${differ[0]})`,
    );
  }
  return {
    path: volumePath(volume.volume, relative),
    checksum: pathChecksum([...expected.keys()], actual),
    files: expected.size,
  };
}
