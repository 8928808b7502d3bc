/**
 * The canonical sweep: every enrolled recipe at its newest release, deployed once (the previous
 * release, then upgraded to the newest), all tiers, teardown; each failed tier triaged alone.
 * Recipes run one after another, so a sweep never holds more than one stack on the host at once.
 */
import { constants } from "node:fs";
import { access, mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  type FlakeClass,
  type Results,
  SWEEP_SCHEMA_VERSION,
  type Sweep,
  type SweepRow,
  type SweepTier,
} from "@taster/contracts";
import { errorMessage, type Tier, usageError } from "@taster/core";
import type { ConnectOptions } from "@taster/swarm";
import { runRecipe } from "../run/index";
import type { RunOptions } from "../run/options";
import type { RunEvent } from "../runlog";
import { warmSweep } from "../warm/sweep";
import { latestRelease, type SweepTarget } from "./targets";
import { tiersToTriage, triageTier } from "./triage";

export * from "./idle";
export * from "./targets";
export * from "./triage";

export const DEFAULT_SWEEP_ATTEMPTS = 2;
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

export interface SweepOptions {
  targets: SweepTarget[];
  outDir: string;
  hostUrl: string;
  hostOptions?: ConnectOptions;
  /** Re-runs per failed tier (default 2; 0 = no triage). */
  attempts?: number;
  idleTimeoutMs?: number;
  /** Passed to every run (overlays, allowlist, probe image, work root, tier timeout). */
  run?: Pick<
    RunOptions,
    "recipesTestsDir" | "allowlistPath" | "probeImage" | "workRoot" | "tierTimeoutSeconds" | "secrets"
  >;
  signal?: AbortSignal;
  onEvent?: (recipe: string, message: string) => void;
  /** Every step of every run (the sweep's and the re-runs'), as `taster run` prints them. */
  onRunEvent?: (recipe: string, event: RunEvent) => void;
}

/** Runs the sweep and writes outDir/sweep.json; failures are rows, never thrown. */
export async function runSweep(opts: SweepOptions): Promise<Sweep> {
  const startedAt = new Date().toISOString();
  const rows: SweepRow[] = [];
  for (const target of opts.targets) {
    if (opts.signal?.aborted) break;
    rows.push(await sweepOne(target, opts));
  }
  const sweep: Sweep = {
    schemaVersion: SWEEP_SCHEMA_VERSION,
    host: opts.hostUrl,
    startedAt,
    finishedAt: new Date().toISOString(),
    attempts: opts.attempts ?? DEFAULT_SWEEP_ATTEMPTS,
    recipes: rows,
  };
  await writeFile(join(opts.outDir, "sweep.json"), `${JSON.stringify(sweep, null, 2)}\n`);
  return sweep;
}

async function sweepOne(target: SweepTarget, opts: SweepOptions): Promise<SweepRow> {
  const started = Date.now();
  const say = (message: string) => opts.onEvent?.(target.recipe, message);
  const row = (fields: Partial<SweepRow>): SweepRow => ({
    recipe: target.recipe,
    repo: target.repo,
    version: null,
    base: null,
    sha: null,
    level: 0,
    verdict: "error",
    tiers: {},
    classification: null,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    ...fields,
  });
  let release: Awaited<ReturnType<typeof latestRelease>>;
  try {
    release = await latestRelease(target.source);
  } catch (error) {
    return row({ error: errorMessage(error), classification: "infra" });
  }
  if (!release.version)
    return row({ error: "the recipe has no release tag to sweep", classification: "genuine" });
  say(`newest release ${release.version}${release.previous ? ` (upgrade from ${release.previous})` : ""}`);
  const recipeDir = target.recipe;
  const run: RunOptions = {
    ...opts.run,
    source: target.source,
    repo: target.repo,
    ref: `refs/tags/${release.version}`,
    hostUrl: opts.hostUrl,
    ...(opts.hostOptions ? { hostOptions: opts.hostOptions } : {}),
    nameSalt: "sweep",
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onRunEvent ? { onEvent: (e: RunEvent) => opts.onRunEvent?.(target.recipe, e) } : {}),
  };
  let results: Results;
  // A warm recipe (taster.yml `warm: true`) keeps its first green run and advances its known-good.
  const warm = await warmSweep(release.version, run, { sweepDir: opts.outDir, recipeDir, say }).catch(
    (error) => {
      say(`warm known-good not looked up: ${errorMessage(error)}`);
      return null;
    },
  );
  try {
    const keep = warm?.runWarm ? { warm: warm.runWarm } : {};
    results = await runRecipe({ ...run, ...keep, outDir: join(opts.outDir, recipeDir) });
  } catch (error) {
    return row({ version: release.version, error: errorMessage(error), classification: "infra" });
  }
  const tiers = tierRows(results);
  for (const tier of tiersToTriage(results)) {
    if (results.errorKind === "config") {
      tiers[tier] = { ...(tiers[tier] as SweepTier), classification: "genuine", attempts: [] };
      continue;
    }
    say(`${tier} failed: re-running it alone (up to ${opts.attempts ?? DEFAULT_SWEEP_ATTEMPTS} times)`);
    const triage = await triageTier(tier, {
      run: { ...run, sha: results.sha },
      hostUrl: opts.hostUrl,
      attempts: opts.attempts ?? DEFAULT_SWEEP_ATTEMPTS,
      idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      sweepDir: opts.outDir,
      recipeDir,
      onEvent: say,
    });
    tiers[tier] = { ...(tiers[tier] as SweepTier), ...triage };
  }
  return row({
    version: release.version,
    base: results.versions.base,
    sha: results.sha,
    level: results.level,
    verdict: results.outcome,
    ...(results.error ? { error: results.error } : {}),
    tiers,
    classification: worst(Object.values(tiers).map((t) => t.classification)),
    results: join(recipeDir, "results.json"),
    log: join(recipeDir, "run.log"),
    ...(warm ? { warm: await warm.finish() } : {}),
  });
}

function tierRows(results: Results): Record<string, SweepTier> {
  const rows: Record<string, SweepTier> = {};
  for (const [tier, t] of Object.entries(results.tiers) as [Tier, Results["tiers"][Tier]][]) {
    const errored = results.outcome === "error" && tiersToTriage(results).includes(tier);
    rows[tier] = { status: errored ? "error" : t.status, durationMs: t.timings.totalMs };
  }
  return rows;
}

/** genuine over infra over flake: the row's headline is its most serious failure. */
function worst(classes: (FlakeClass | undefined)[]): FlakeClass | null {
  for (const c of ["genuine", "infra", "flake"] as const) if (classes.includes(c)) return c;
  return null;
}

/**
 * Makes the sweep directory, or says clearly why it cannot: checked before any recipe runs, so bad
 * input writes nothing. An existing directory must be writable; a new one is made under a writable parent.
 */
export async function prepareSweepDir(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => null);
  if (existing && !existing.isDirectory()) throw usageError(`--out ${dir} is a file, not a directory`);
  let parent = existing ? dir : dirname(dir);
  while (!(await stat(parent).catch(() => null))) parent = dirname(parent);
  try {
    await access(parent, constants.W_OK);
  } catch {
    throw usageError(`--out ${dir}: ${parent} is not writable`, "choose a directory you can write to");
  }
  await mkdir(dir, { recursive: true });
}
