import { changeBackedUp, restoreStack, roundTripProof } from "@taster/swarm";
import { converge } from "../../converge";
import { skippedTier, type TierResult } from "../../results";
import type { Live } from "../live";
import { RESTORE_CHECK_KEY } from "../options";
import type { PreparedRun } from "../prepare";
import { signalOf } from "../session";
import { notBackupCapable } from "./backup";
import { notDeployed, type Op } from "./op";

/** Change what was backed up, put the artifact back, and prove each path round-tripped. */
export async function restoreOp(run: PreparedRun, live: Live | null): Promise<Op | TierResult> {
  if (!live) return notDeployed();
  const na = notBackupCapable(live.app.plan);
  if (na) return na;
  const { app } = live;
  const backup = app.backup;
  if (!backup) return skippedTier("not run: no backup artifact");
  return {
    name: "change every backed-up path, restore the backup, converge",
    run: async () => {
      const changed = await changeBackedUp(app.host, app.plan, backup);
      const restored = await restoreStack(app.host, app.plan, backup);
      const proof = roundTripProof(backup.checksums, changed, restored.checksums);
      run.log.event(
        "restore",
        `${restored.files} file(s) put back and checked against the artifact`,
        "restore",
      );
      run.log.event("restore", proof.summary, "restore");
      live.broker.state.set(RESTORE_CHECK_KEY, { ...restored, checksums: proof.checksums });
      await converge(app.host, app.plan, {
        ...signalOf(run),
        onProgress: (msg) => run.log.event("converge", msg, "restore"),
      });
    },
  };
}
