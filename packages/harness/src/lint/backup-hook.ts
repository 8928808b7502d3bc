import type { Plan, PlannedService } from "@taster/swarm";
import type { LintFinding } from "./finding";

const PRE_HOOK = "backupbot.backup.pre-hook";
const RESTORE_POST_HOOK = "backupbot.restore.post-hook";

/**
 * A backup pre-hook dumps a database into a backed-up volume; restore puts the dump file back, and
 * only a restore post-hook loads it into the database. Without one, a restore silently keeps the
 * live data (backup-bot-two's spec: hooks may sit on any service).
 */
export function backupHookFindings(plan: Plan): LintFinding[] {
  if (!plan.backupCapable) return [];
  if (plan.services.some((s) => s.labels[RESTORE_POST_HOOK])) return [];
  return plan.services
    .filter((s) => s.labels[PRE_HOOK])
    .map((service) => {
      const hook = service.labels[PRE_HOOK] as string;
      const into = dumpTarget(plan, service, hook);
      return {
        check: "backup-restore-hook" as const,
        severity: "warning" as const,
        message: `${PRE_HOOK} on ${service.name} (${JSON.stringify(hook)})${into ? ` writes into ${into}, which is backed up,` : ""} but no service has ${RESTORE_POST_HOOK}: a restore puts the dump back and nothing loads it (add ${RESTORE_POST_HOOK} on ${service.name} that loads the dump)`,
        source: "backup-bot-two spec (docs.coopcloud.tech, Backup): pre/post hooks for backup and restore",
      };
    });
}

/** The first path the hook names that lies in a backed-up volume of its service, as "path (volume v)". */
function dumpTarget(plan: Plan, service: PlannedService, hook: string): string | undefined {
  const paths = hook.match(/\/[^\s"'`;|&<>]+/g) ?? [];
  for (const mount of service.mounts) {
    if (mount.type !== "volume" || !mount.target || !isBackedUp(plan, mount.source)) continue;
    const path = paths.find((p) => p === mount.target || p.startsWith(`${mount.target.replace(/\/$/, "")}/`));
    if (path) return `${path} (volume ${volumeKey(plan, mount.source)})`;
  }
  return undefined;
}

/** All volumes are backed up unless the labelled service excludes one with `…volumes.<vol>=false`. */
function isBackedUp(plan: Plan, fullName: string): boolean {
  const key = volumeKey(plan, fullName);
  return !plan.services.some((s) => s.labels[`backupbot.backup.volumes.${key}`] === "false");
}

const volumeKey = (plan: Plan, fullName: string) =>
  fullName.startsWith(`${plan.stack}_`) ? fullName.slice(plan.stack.length + 1) : fullName;
