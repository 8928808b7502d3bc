import type { Stage, Tier } from "@taster/core";
import { type BackupArtifact, backupSelection, type Plan } from "@taster/swarm";

/**
 * backup-bot-two refuses a stack with `backupbot.backup=true` on more than one service: when the
 * run will back up, that is a recipe error before anything is deployed (it names the services).
 */
export function checkBackupLabels(
  plan: Plan,
  stages: readonly Stage[],
  na: Partial<Record<Tier, string>> = {},
): void {
  const wanted = (["backup", "restore"] as const).some((tier) => stages.includes(tier) && !na[tier]);
  if (wanted) backupSelection(plan);
}

/** The backup's log lines: the markers, the artifact, every backed-up `<volume>/<path>` with its checksum. */
export function backupSummary(artifact: BackupArtifact): string[] {
  const markers = artifact.markers.map((m) => `marker seeded in ${m.service}:${m.path}`);
  if (markers.length === 0)
    markers.push("no backed-up path is a directory: no marker (the checksums prove the round trip)");
  const paths = artifact.checksums
    .map((c) => `${c.path} (${c.files} file(s), ${c.checksum.slice(0, 12)})`)
    .join(", ");
  return [
    ...markers,
    `artifact ${artifact.size} bytes, sha256 ${artifact.sha256}; ${artifact.checksums.length} path(s): ${paths}`,
  ];
}
