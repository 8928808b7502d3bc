import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { backupSelection, backupStack, type Plan } from "@taster/swarm";
import { backupSummary } from "../../backup-tiers";
import { naTier, type TierResult } from "../../results";
import type { Live } from "../live";
import { MARKER_KEY } from "../options";
import type { PreparedRun } from "../prepare";
import { notDeployed, type Op } from "./op";

/** Why backup and restore have nothing to do on this deployment, if they have not. */
export function notBackupCapable(plan: Plan): TierResult | null {
  if (plan.backupCapable) return null;
  return naTier("not-applicable", "not backup-capable: no service has the label backupbot.backup=true");
}

/** Back up as backup-bot-two would; the artifact stays for restore, its marker for the assertions. */
export async function backupOp(run: PreparedRun, live: Live | null): Promise<Op | TierResult> {
  if (!live) return notDeployed();
  const na = notBackupCapable(live.app.plan);
  if (na) return na;
  backupSelection(live.app.plan); // two backupbot.backup=true labels: a recipe error before the op
  return {
    name: "back up (backup-bot-two labels), recording each path's content checksum",
    run: async () => {
      const artifactDir = join(run.workspaceDir, "artifacts");
      await mkdir(artifactDir, { recursive: true, mode: 0o700 });
      const backup = await backupStack(live.app.host, live.app.plan, artifactDir, {
        maxBytes: run.settings.backupMaxMiB * 1024 * 1024,
      });
      live.app.backup = backup;
      const [marker] = backup.markers;
      if (marker) live.broker.state.set(MARKER_KEY, marker);
      for (const line of backupSummary(backup)) run.log.event("backup", line, "backup");
    },
  };
}
