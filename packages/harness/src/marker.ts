import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { Plan } from "@taster/swarm";

/** Where the harness puts its backup marker: the first path backup-bot-two would back up. */
export function markerLocation(plan: Plan): { service: string; path: string } | null {
  for (const service of plan.services) {
    const labels = service.labels;
    if (labels["backupbot.backup"] !== "true") continue;
    const paths = backedUpPaths(plan.stack, service);
    if (paths[0]) return { service: service.name, path: posix.join(paths[0], ".taster-marker") };
  }
  return null;
}

/** backup-bot-two's reading of one service's labels: explicit paths, then volume mounts. */
export function backedUpPaths(stack: string, service: Plan["services"][number]): string[] {
  const labels = service.labels;
  const paths = (labels["backupbot.backup.path"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  for (const mount of service.mounts) {
    if (mount.type !== "volume") continue;
    const volume = mount.source.startsWith(`${stack}_`) ? mount.source.slice(stack.length + 1) : mount.source;
    if (labels[`backupbot.backup.volumes.${volume}`] === "false") continue;
    const sub = labels[`backupbot.backup.volumes.${volume}.path`];
    const targets = sub ? sub.split(",").map((p) => posix.join(mount.target, p.trim())) : [mount.target];
    for (const target of targets) if (!paths.includes(target)) paths.push(target);
  }
  return paths;
}

export const newMarkerValue = () => `taster-marker-${randomBytes(8).toString("hex")}`;
export const MUTATED_MARKER = "changed-after-backup";
