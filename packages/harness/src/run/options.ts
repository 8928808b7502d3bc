import { join } from "node:path";
import type { Stage, Tier } from "@taster/core";
import { type ConnectOptions, connectHost, type Host } from "@taster/swarm";
import type { Results } from "../results";
import type { RunEvent } from "../runlog";
import { toolPaths } from "../sandbox";
import type { WarmRunOptions } from "../warm/types";

/** Key under which the harness leaves the backup marker for the generic restore assertion. */
export const MARKER_KEY = "taster.backupMarker";
/** Key under which the restore op leaves what it put back and checked (files, paths). */
export const RESTORE_CHECK_KEY = "taster.restoreCheck";

/** The run's Docker host: --host, else DOCKER_HOST, else this machine's engine (one rule for every caller). */
export function connectRunHost(opts: Pick<RunOptions, "hostUrl" | "hostOptions">): Promise<Host> {
  const url = opts.hostUrl ?? process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  return connectHost(url, opts.hostOptions);
}

export const DEFAULT_ALLOWLIST = join(toolPaths.repoRoot, "allowlist", "repo-local.yml");

export interface RunOptions {
  /** A recipe repository: local path, bare repo or git URL. */
  source: string;
  /** A ref to fetch (default: the remote's HEAD; `--pr N` means refs/pull/N/head). */
  ref?: string;
  pr?: number;
  /** The exact commit to test (default: what the ref points at). */
  sha?: string;
  /** Tiers to run (install is always run), plus opt-in stages (`fresh`). Default: every tier. */
  stages?: Stage[];
  /** Docker host URL (default: $DOCKER_HOST, else the local socket). */
  hostUrl?: string;
  hostOptions?: ConnectOptions;
  /** The host's probe image (TASTER_PROBE_IMAGES); a recipe's `probeImage` setting wins. Default: the lab's. */
  probeImage?: string;
  /** Where results.json and run.log go. */
  outDir?: string;
  allowlistPath?: string;
  recipesTestsDir?: string;
  /** Parent of the per-run workspace (default: <tmp>/taster-runs). */
  workRoot?: string;
  /**
   * Mixed into the stack name so concurrent runs of the same (repo, PR, sha) never share a stack
   * (tests on a shared engine, a retest while a stale run still tears down). Default: none, so
   * the name stays deterministic for the janitor and the queue's coalescing.
   */
  nameSalt?: string;
  /**
   * The recipe's identity for naming the stack, e.g. `coop-cloud/hello-web` from a forge job
   * (default: `source`). The same identity everywhere (worker, janitor) gives the same stack name,
   * wherever the recipe happens to be fetched from.
   */
  repo?: string;
  /** Overrides the recipe's tierTimeout setting (seconds). */
  tierTimeoutSeconds?: number;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /**
   * Called once when the tiers have ended, before teardown, with the verdict (results as they will
   * be, minus the teardown's outcome: `residue` empty, `teardownMs` 0). The caller publishes it
   * then; the returned results (after teardown) amend it. Not called for a usage error.
   */
  onVerdict?: (results: Results) => Promise<void> | void;
  /** `!testme failed`: the run re-checks these tiers, which failed in run `runId` on this commit. */
  recheckOf?: { runId: string; tiers: Tier[] };
  /** The caller's own secret values (a worker's forge token, webhook secrets…): masked like the run's. */
  secrets?: string[];
  /** Seed the run from the recipe's warm known-good and/or keep it as the new one (src/warm/). */
  warm?: WarmRunOptions;
}
