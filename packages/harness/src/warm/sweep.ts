/**
 * A warm recipe in the sweep. No known-good yet: the sweep's own run is kept if it passes. A
 * known-good of an older release: after the sweep's own run, an advance run upgrades a copy of it
 * to the newest release (install of the known-good's release over the copy, upgrade, custom); if
 * that passes the copy becomes the known-good, else the old one stays exactly as it was.
 */
import { join } from "node:path";
import type { SweepWarm } from "@taster/contracts";
import { errorMessage, parseStages } from "@taster/core";
import { loadSettings, recipeNameFrom } from "@taster/recipe";
import { type KnownGood, knownGoodOf } from "@taster/swarm";
import type { Results } from "../results";
import { runRecipe } from "../run/index";
import { connectRunHost, type RunOptions } from "../run/options";
import { toolPaths } from "../sandbox";
import type { KeepOutcome, WarmRunOptions } from "./types";

/** The tiers an advance (and `!testme quick`) runs: the upgrade over aged data, then the overlays. */
export const SEEDED_STAGES = parseStages("upgrade,custom");

export interface WarmSweep {
  /** For the sweep's own run: keep it when there is no known-good yet. */
  runWarm?: WarmRunOptions;
  /** After the sweep's own run: advance if needed; the row's `warm`. */
  finish(): Promise<SweepWarm>;
}

interface Where {
  /** The sweep directory and the recipe's directory in it (paths in sweep.json are relative). */
  sweepDir: string;
  recipeDir: string;
  say: (message: string) => void;
}

/** The recipe's part in warm known-goods for this sweep, or null when it is not warm. */
export async function warmSweep(version: string, run: RunOptions, where: Where): Promise<WarmSweep | null> {
  const recipe = recipeNameFrom(run.source);
  const warm = await loadSettings(run.recipesTestsDir ?? toolPaths.recipesTests, recipe).then(
    (s) => s.warm,
    () => false, // the run itself reports a broken taster.yml
  );
  if (!warm) return null;
  const kg = await currentKnownGood(run, recipe);
  if (!kg) {
    let outcome: KeepOutcome | undefined;
    return {
      runWarm: { keep: true, onKept: (o) => (outcome = o) },
      finish: async () =>
        outcome?.kept
          ? { action: "kept", version: outcome.kept.version, from: null }
          : {
              action: "not-kept",
              version: null,
              from: null,
              reason: outcome && !outcome.kept ? outcome.reason : "the sweep's run did not pass",
            },
    };
  }
  if (kg.version === version) {
    return { finish: async () => ({ action: "unchanged", version: kg.version, from: kg.version }) };
  }
  return { finish: () => advance(kg, version, run, where) };
}

async function currentKnownGood(run: RunOptions, recipe: string): Promise<KnownGood | null> {
  const host = await connectRunHost(run);
  try {
    return await knownGoodOf(host, recipe);
  } finally {
    await host.close();
  }
}

async function advance(kg: KnownGood, version: string, run: RunOptions, where: Where): Promise<SweepWarm> {
  where.say(`advancing the known-good ${kg.version} → ${version} over a copy of its data`);
  const rel = join(where.recipeDir, "warm");
  const paths = { results: join(rel, "results.json"), log: join(rel, "run.log") };
  let outcome: KeepOutcome | undefined;
  let results: Results;
  try {
    results = await runRecipe({
      ...run,
      stages: SEEDED_STAGES,
      outDir: join(where.sweepDir, rel),
      nameSalt: "warm",
      warm: { fromKnownGood: true, keep: true, onKept: (o) => (outcome = o) },
    });
  } catch (error) {
    return failed(kg, `the advance could not run: ${errorMessage(error)}`, paths);
  }
  if (outcome?.kept) {
    where.say(`known-good advanced to ${outcome.kept.version}`);
    return { action: "advanced", version: outcome.kept.version, from: kg.version, ...paths };
  }
  const why = results.outcome === "pass" ? (outcome?.reason ?? "nothing was kept") : whyRed(results);
  where.say(`advance failed, the known-good stays ${kg.version}: ${why}`);
  return failed(kg, why, paths);
}

const failed = (kg: KnownGood, reason: string, paths: { results: string; log: string }): SweepWarm => ({
  action: "advance-failed",
  version: kg.version,
  from: kg.version,
  reason,
  ...paths,
});

/** The first failing tier and why, else the run's error. */
function whyRed(results: Results): string {
  for (const [tier, t] of Object.entries(results.tiers)) {
    if (t.status === "fail") return `${tier} failed: ${t.reason ?? "see the log"}`;
  }
  return results.error ?? `the run ended ${results.outcome}`;
}
