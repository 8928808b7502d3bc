import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { recipeError } from "@taster/core";
import { extract, pack } from "tar-stream";
import { ArchiveTooLarge, copyFromService, copyToService } from "./archive";
import { formatBytes } from "./capped";
import { execInService } from "./exec";
import type { Host } from "./host";
import type { Plan, PlannedService } from "./plan";

/** What one backup artifact holds for one service. */
export interface BackupEntry {
  service: string;
  paths: string[];
}

export interface BackupArtifact {
  path: string;
  size: number;
  sha256: string;
  entries: BackupEntry[];
}

export interface BackupOptions {
  /** Most bytes the whole artifact may hold (default DEFAULT_BACKUP_MAX_BYTES). */
  maxBytes?: number;
}

/** A test deployment's data is small; more than this is a runaway volume, not a backup to keep in memory. */
export const DEFAULT_BACKUP_MAX_BYTES = 256 * 1024 * 1024;

const MANIFEST = "manifest.json";
const LABEL = {
  enabled: "backupbot.backup",
  path: "backupbot.backup.path",
  preHook: "backupbot.backup.pre-hook",
  postHook: "backupbot.backup.post-hook",
  restorePreHook: "backupbot.restore.pre-hook",
  restorePostHook: "backupbot.restore.post-hook",
} as const;

/** Services backup-bot-two would back up: those labelled `backupbot.backup=true`. */
export function backupServices(plan: Plan): PlannedService[] {
  return plan.services.filter((service) => service.labels[LABEL.enabled] === "true");
}

/**
 * The container paths backup-bot-two saves for a service: `backupbot.backup.path` (comma-separated),
 * and each named volume's mount target — or its `backupbot.backup.volumes.<vol>.path` sub-paths —
 * unless `backupbot.backup.volumes.<vol>=false`.
 */
export function backupPaths(plan: Plan, service: PlannedService): string[] {
  const paths = splitList(service.labels[LABEL.path]);
  for (const mount of service.mounts) {
    if (mount.type !== "volume" || !mount.source) continue;
    const volume = mount.source.startsWith(`${plan.stack}_`)
      ? mount.source.slice(plan.stack.length + 1)
      : mount.source;
    if (service.labels[`backupbot.backup.volumes.${volume}`] === "false") continue;
    const subPaths = splitList(service.labels[`backupbot.backup.volumes.${volume}.path`]);
    if (subPaths.length === 0) paths.push(mount.target);
    for (const sub of subPaths) paths.push(posix.join(mount.target, sub));
  }
  return [...new Set(paths.map((path) => posix.normalize(path)))];
}

/** `volume <name> (<path>)` when a named volume holds the path, else the path. */
function describePath(plan: Plan, service: PlannedService, path: string): string {
  const mount = service.mounts.find(
    (m) => m.type === "volume" && m.source && (path === m.target || path.startsWith(`${m.target}/`)),
  );
  if (!mount) return path;
  const volume = mount.source.startsWith(`${plan.stack}_`)
    ? mount.source.slice(plan.stack.length + 1)
    : mount.source;
  return `volume ${volume} (${path})`;
}

function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

async function runHook(host: Host, plan: Plan, service: string, label: string, command: string | undefined) {
  if (!command) return;
  const result = await execInService(host, plan.stack, service, ["/bin/sh", "-c", command]);
  if (result.exitCode !== 0) {
    throw recipeError(
      `${label} on service ${service} failed with exit code ${result.exitCode}: ${(result.stderr || result.stdout).trim()}`,
    );
  }
}

/**
 * Backs up the stack the way backup-bot-two would (pre-hook, copy the labelled paths, post-hook)
 * into one tar artifact in `artifactDir`: `manifest.json` plus one tar per saved path.
 */
export async function backupStack(
  host: Host,
  plan: Plan,
  artifactDir: string,
  options: BackupOptions = {},
): Promise<BackupArtifact> {
  const maxBytes = options.maxBytes ?? DEFAULT_BACKUP_MAX_BYTES;
  let saved = 0;
  const services = backupServices(plan);
  if (services.length === 0)
    throw recipeError(`${plan.stack} is not backup-capable: no service has backupbot.backup=true`);
  const entries: BackupEntry[] = [];
  const files: { name: string; data: Buffer }[] = [];
  for (const service of services) {
    const paths = backupPaths(plan, service);
    if (paths.length === 0)
      throw recipeError(`service ${service.name} has backupbot.backup=true but no path or volume to save`);
    await runHook(host, plan, service.name, LABEL.preHook, service.labels[LABEL.preHook]);
    for (const [index, path] of paths.entries()) {
      const data = await copyFromService(host, plan.stack, service.name, path, maxBytes - saved).catch(
        (error: unknown) => {
          if (!(error instanceof ArchiveTooLarge)) throw error;
          throw recipeError(
            `backup of ${describePath(plan, service, path)} on service ${service.name} is too large: the whole backup may hold at most ${formatBytes(maxBytes)} (${formatBytes(saved)} already saved)`,
            "raise backupMaxMiB in the recipe's taster.yml, or leave the volume out with backupbot.backup.volumes.<volume>=false",
          );
        },
      );
      saved += data.length;
      files.push({ name: `${service.name}/${index}.tar`, data });
    }
    await runHook(host, plan, service.name, LABEL.postHook, service.labels[LABEL.postHook]);
    entries.push({ service: service.name, paths });
  }
  const data = await packArtifact([
    { name: MANIFEST, data: Buffer.from(JSON.stringify({ stack: plan.stack, entries })) },
    ...files,
  ]);
  const path = join(artifactDir, `${plan.stack}-backup.tar`);
  await writeFile(path, data);
  return { path, size: data.length, sha256: createHash("sha256").update(data).digest("hex"), entries };
}

/** What a restore put back, checked file by file against the artifact. */
export interface RestoreReport {
  /** Regular files put back and read back identical, over all paths. */
  files: number;
  paths: string[];
}

/**
 * Restores an artifact from backupStack: restore pre-hook, put the paths back, restore post-hook.
 * Before the post-hook (which may load a dump and delete it), every path is read back and each of
 * its files compared with the artifact: a restore that did not really put the data back fails here.
 */
export async function restoreStack(
  host: Host,
  plan: Plan,
  artifact: { path: string },
): Promise<RestoreReport> {
  const report: RestoreReport = { files: 0, paths: [] };
  const files = await unpackArtifact(await readFile(artifact.path));
  const manifest = files.get(MANIFEST);
  if (!manifest) throw recipeError(`${artifact.path} is not a Taster backup artifact (no ${MANIFEST})`);
  const { entries } = JSON.parse(manifest.toString("utf8")) as { entries: BackupEntry[] };
  for (const entry of entries) {
    const service = plan.services.find((candidate) => candidate.name === entry.service);
    if (!service)
      throw recipeError(
        `backup holds service ${entry.service}, which the plan of ${plan.stack} does not have`,
      );
    await runHook(host, plan, service.name, LABEL.restorePreHook, service.labels[LABEL.restorePreHook]);
    for (const [index, path] of entry.paths.entries()) {
      const tar = files.get(`${entry.service}/${index}.tar`);
      if (!tar) throw recipeError(`${artifact.path} lacks ${entry.service}/${index}.tar for ${path}`);
      // docker cp archives hold the path's last component at the top: unpack into its parent.
      await copyToService(host, plan.stack, service.name, posix.dirname(path), tar);
      report.files += await verifyRestored(host, plan, service.name, path, tar);
      report.paths.push(path);
    }
    await runHook(host, plan, service.name, LABEL.restorePostHook, service.labels[LABEL.restorePostHook]);
  }
  return report;
}

/** Reads `path` back from the service and compares every regular file with the archive's. */
async function verifyRestored(
  host: Host,
  plan: Plan,
  service: string,
  path: string,
  tar: Buffer,
): Promise<number> {
  const expected = await fileDigests(tar);
  const actual = await fileDigests(await copyFromService(host, plan.stack, service, path));
  const differ = [...expected].filter(([name, digest]) => actual.get(name) !== digest).map(([name]) => name);
  if (differ.length > 0) {
    throw recipeError(
      `restore did not put ${path} back on service ${service}: ${differ.length} of ${expected.size} file(s) differ from the backup (first: ${differ[0]})`,
    );
  }
  return expected.size;
}

/** sha256 of every regular file in a tar, by name. */
async function fileDigests(tar: Buffer): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const entry of await readTar(tar)) {
    if (entry.type === "file") digests.set(entry.name, createHash("sha256").update(entry.data).digest("hex"));
  }
  return digests;
}

async function packArtifact(files: { name: string; data: Buffer }[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on("data", (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const finished = new Promise<void>((resolve, reject) => {
    archive.on("end", resolve);
    archive.on("error", reject);
  });
  // Fixed mtime: the same content gives the same artifact bytes (and sha256).
  for (const file of files)
    archive.entry({ name: file.name, size: file.data.length, mtime: new Date(0) }, file.data);
  archive.finalize();
  await finished;
  return Buffer.concat(chunks);
}

async function unpackArtifact(data: Buffer): Promise<Map<string, Buffer>> {
  return new Map((await readTar(data)).map((entry) => [entry.name, entry.data]));
}

/** Every entry of a tar held in memory (Taster's own artifacts and docker cp archives, both capped). */
async function readTar(data: Buffer): Promise<{ name: string; type: string; data: Buffer }[]> {
  const entries: { name: string; type: string; data: Buffer }[] = [];
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
