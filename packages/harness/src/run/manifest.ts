import { stat } from "node:fs/promises";
import { settingsPath } from "@taster/recipe";
import { gateRepoLocal, loadAllowlist } from "../allowlist";
import { type Customization, discoverCustomization } from "../discovery";
import { entriesFor } from "../manifest-scope";
import { materializeGate } from "../pinned-copy";
import type { Manifest } from "../results";
import { toolPaths } from "../sandbox";
import { DEFAULT_ALLOWLIST } from "./options";
import type { Session } from "./session";

export interface Customized {
  customization: Customization;
  pinnedDir: string | null;
  manifest: Manifest;
}

/**
 * What the run will execute beside Taster's own checks (hooks, assertions, repo-local code behind
 * the allowlist), as the manifest lists it; recorded so results.json has it even if a later step fails.
 */
export async function resolveCustomization(
  session: Session,
  where: { recipesTestsDir: string; checkoutDir: string; pinnedRoot: string; base: { tag: string } | null },
): Promise<Customized> {
  const { opts, recipe, record } = session;
  const allowlist = await loadAllowlist(opts.allowlistPath ?? DEFAULT_ALLOWLIST);
  // Pins are keyed by owner/name: only a run that knows its repository (a job, `run --repo`) has one.
  const approved = await gateRepoLocal(allowlist, opts.repo, where.checkoutDir);
  const gate = await materializeGate(approved, where.checkoutDir, where.pinnedRoot);
  const { recipesTestsDir, checkoutDir } = where;
  const customization = await discoverCustomization({ recipesTestsDir, recipe, checkoutDir, gate });
  const listed = entriesFor(customization.entries, session.stages);
  const settingsFile = settingsPath(recipesTestsDir, recipe);
  const manifest: Manifest = {
    recipe,
    settingsFile: (await fileExists(settingsFile)) ? settingsFile : null,
    upgradeBase: { base: where.base?.tag ?? null, reason: record.versions.baseReason },
    backupCapable: false, // known once planned
    repoLocal: {
      allowed: gate.allowed,
      why: gate.why,
      treeHash: gate.treeHash,
      ...(gate.approve ? { approve: gate.approve } : {}),
    },
    files: listed,
  };
  record.manifest = manifest;
  session.log.event("manifest", `repo-local code ${gate.allowed ? "ALLOWED" : "not run"}: ${gate.why}`);
  for (const entry of listed) {
    const shown = entry.path
      .replace(`${checkoutDir}/`, "<recipe>/")
      .replace(`${where.pinnedRoot}/`, "<pinned>/")
      .replace(`${toolPaths.repoRoot}/`, "");
    session.log.event(
      "manifest",
      `${entry.allowed ? "run " : "DENY"} ${entry.kind} ${entry.tier} ${shown} — ${entry.why}`,
    );
  }
  return { customization, pinnedDir: gate.pinnedDir ?? null, manifest };
}

async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
