import { posix } from "node:path";
import { recipeError } from "@taster/core";
import type { Plan, PlannedService } from "./plan";

/**
 * backup-bot-two's labels, read as its specification says
 * (https://git.coopcloud.tech/p4u1/docs.coopcloud.tech/raw/branch/backupbottwo-spec/Specification.md):
 * `backupbot.backup=true` on exactly one service enables the backup of the whole stack; every
 * named volume is backed up unless `backupbot.backup.volumes.<vol>=false`;
 * `backupbot.backup.volumes.<vol>.path=a,b` limits a volume to paths relative to its root; hooks
 * may sit on any service and run in that service's container.
 */
export const BACKUP_LABEL = {
  enabled: "backupbot.backup",
  preHook: "backupbot.backup.pre-hook",
  postHook: "backupbot.backup.post-hook",
  restorePreHook: "backupbot.restore.pre-hook",
  restorePostHook: "backupbot.restore.post-hook",
} as const;

export type HookLabel = Exclude<keyof typeof BACKUP_LABEL, "enabled">;

/** One volume to back up: where it is mounted (the service whose container reaches it) and which paths. */
export interface VolumeSelection {
  /** The compose name of the volume, as the labels spell it (`db_data`). */
  volume: string;
  /** A service of the stack that mounts the volume: backups and restores go through its container. */
  service: string;
  /** Where that service mounts the volume. */
  target: string;
  /** Paths relative to the volume root; `.` is the whole volume. */
  paths: string[];
}

export interface HookCall {
  service: string;
  label: string;
  command: string;
}

export interface BackupSelection {
  /** The one service carrying `backupbot.backup=true`. */
  labelledService: string;
  volumes: VolumeSelection[];
  hooks: Record<HookLabel, HookCall[]>;
}

/** The services carrying `backupbot.backup=true`. */
export function backupServices(plan: Plan): PlannedService[] {
  return plan.services.filter((service) => service.labels[BACKUP_LABEL.enabled] === "true");
}

/**
 * What backup-bot-two would back up for this stack, or null when no service enables the backup.
 * More than one `backupbot.backup=true` is a recipe error naming every such service.
 */
export function backupSelection(plan: Plan): BackupSelection | null {
  const labelled = backupServices(plan);
  if (labelled.length === 0) return null;
  if (labelled.length > 1) {
    const names = labelled.map((s) => s.name);
    throw recipeError(
      `backupbot.backup=true is set on ${names.length} services (${names.join(", ")}): backup-bot-two's specification allows it on exactly one service of the stack`,
      `keep the label on one service (the main one, usually app) and remove it from ${names.slice(1).join(", ")}; volumes and hooks of the other services are backed up anyway`,
    );
  }
  return {
    labelledService: (labelled[0] as PlannedService).name,
    volumes: selectedVolumes(plan),
    hooks: {
      preHook: hookCalls(plan, "preHook"),
      postHook: hookCalls(plan, "postHook"),
      restorePreHook: hookCalls(plan, "restorePreHook"),
      restorePostHook: hookCalls(plan, "restorePostHook"),
    },
  };
}

/** Every named volume of the stack, once, through the first service (plan order) that mounts it. */
function selectedVolumes(plan: Plan): VolumeSelection[] {
  const selected = new Map<string, VolumeSelection>();
  for (const service of plan.services) {
    for (const mount of service.mounts) {
      if (mount.type !== "volume" || !mount.source) continue;
      const volume = volumeLabelName(plan, mount.source);
      if (selected.has(volume) || volumeLabel(plan, volume) === "false") continue;
      const paths = volumePaths(plan, volume);
      selected.set(volume, { volume, service: service.name, target: mount.target, paths });
    }
  }
  return [...selected.values()];
}

/** Volume labels may sit on any service of the stack (the spec names the volume, not the service). */
function volumeLabel(plan: Plan, volume: string, suffix = ""): string | undefined {
  const key = `backupbot.backup.volumes.${volume}${suffix}`;
  return plan.services.map((service) => service.labels[key]).find((value) => value !== undefined);
}

/** The label's paths, relative to the volume root (a leading `/` is the root); none given: the whole volume. */
function volumePaths(plan: Plan, volume: string): string[] {
  const key = `backupbot.backup.volumes.${volume}.path`;
  const listed = (volumeLabel(plan, volume, ".path") ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  const paths = listed.map((path) => {
    const relative = posix.normalize(path.replace(/^\/+/, "") || ".").replace(/\/+$/, "") || ".";
    if (relative === ".." || relative.startsWith("../") || path.includes("\0")) {
      throw recipeError(
        `${key}=${path} leaves the volume: paths are relative to the volume root`,
        `name a path inside the volume, e.g. ${key}=backup.sql`,
      );
    }
    return relative;
  });
  return paths.length > 0 ? [...new Set(paths)] : ["."];
}

/** `<stack>_db_data` → `db_data`, the name the labels use; a volume with its own `name:` keeps it. */
function volumeLabelName(plan: Plan, source: string): string {
  return source.startsWith(`${plan.stack}_`) ? source.slice(plan.stack.length + 1) : source;
}

function hookCalls(plan: Plan, hook: HookLabel): HookCall[] {
  const label = BACKUP_LABEL[hook];
  return plan.services
    .filter((service) => service.labels[label])
    .map((service) => ({ service: service.name, label, command: service.labels[label] as string }));
}

/** The path inside the volume's container: `<mount target>/<relative path>`. */
export const containerPath = (volume: VolumeSelection, relative: string) =>
  posix.join(volume.target, relative);

/** How a backed-up path is named in logs, results and the artifact: `<volume>/<relative path>`. */
export const volumePath = (volume: string, relative: string) =>
  relative === "." ? volume : `${volume}/${relative}`;
