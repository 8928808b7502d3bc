import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";

export interface Workspace {
  /** A directory no other run has or will have. */
  dir: string;
  /** Removes the directory and everything in it; safe to call twice. */
  cleanup: () => Promise<void>;
}

/**
 * A unique per-run directory under root. Concurrent runs of the same run id still get distinct
 * directories (mkdtemp), because shared scratch paths once corrupted concurrent runs.
 */
export async function makeWorkspace(root: string, runId: string): Promise<Workspace> {
  await mkdir(root, { recursive: true });
  const prefix = runId.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 60) || "run";
  const dir = await mkdtemp(join(root, `${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
