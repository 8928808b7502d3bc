import type { RunRecord, RunStore } from "@taster/queue";
import { FINISHED, resultsOf } from "./view";

/** Recipe names as they appear in URLs: the repository name rules. */
export const RECIPE_NAME = /^[\w.-]{1,100}$/;

/**
 * A recipe's runs, newest first, from the most recent `scan` runs of all recipes. The run store keeps
 * one global index, so history reaches as far back as that window (see docs/dashboard.md).
 */
export async function recipeRuns(runs: RunStore, recipe: string, scan: number): Promise<RunRecord[]> {
  return (await runs.listRuns(scan)).filter((run) => run.job.recipe === recipe);
}

/**
 * What a badge shows: the level of the newest run that reached a verdict on the recipe. Infrastructure
 * errors and cancelled runs say nothing about the recipe, so they never change it.
 */
export function latestVerdict(history: RunRecord[]): { run: RunRecord; level: number } | undefined {
  for (const run of history) {
    if (run.state !== "done" && run.state !== "failed") continue;
    const results = resultsOf(run);
    if (results && results.outcome !== "error") return { run, level: results.level };
  }
  return undefined;
}

export const isInFlight = (run: RunRecord): boolean => !FINISHED.has(run.state);
