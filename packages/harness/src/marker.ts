import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import { backupPaths, backupServices, type Plan } from "@taster/swarm";

export interface MarkerLocation {
  service: string;
  path: string;
}

/**
 * Where the harness puts its backup marker: inside the first path backup-bot-two would back up
 * that is a directory in the running service. A path selection may name files only (a database
 * dump, `backupbot.backup.volumes.<vol>.path=backup.sql`): then there is no marker, and the
 * restore's file-by-file comparison with the artifact is the generic proof.
 */
export async function markerLocation(
  plan: Plan,
  isDirectory: (service: string, path: string) => Promise<boolean>,
): Promise<MarkerLocation | null> {
  for (const service of backupServices(plan)) {
    for (const path of backupPaths(plan, service)) {
      if (await isDirectory(service.name, path))
        return { service: service.name, path: posix.join(path, ".taster-marker") };
    }
  }
  return null;
}

export const newMarkerValue = () => `taster-marker-${randomBytes(8).toString("hex")}`;
export const MUTATED_MARKER = "changed-after-backup";
