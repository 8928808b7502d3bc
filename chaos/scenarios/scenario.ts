/**
 * What a scenario of the reliability scorecard is, and the helpers scenarios share. Each scenario
 * does something hostile to a fresh World and says what it observed; the invariants are checked
 * by the scorecard afterwards, for every one.
 */
import type { Expectation } from "../invariants";
import type { World, WorldOptions } from "../world";

export interface Scenario {
  id: string;
  did: string;
  expected: string;
  expect: Expectation;
  /** How the scenario's world differs from the default hello-web PR. */
  world?: WorldOptions;
  /**
   * Starts what the world needs before it exists (e.g. a private Redis to stop later); its world
   * options are added to `world`, and `cleanup` runs after the world is closed, pass or fail.
   */
  setup?(): Promise<{ world: WorldOptions; cleanup(): Promise<void> | void }>;
  /** Drives the world; returns what was observed and any problem specific to this scenario. */
  run(world: World): Promise<{ observed: string; problems: string[] }>;
}

/** The command the scenarios comment (install only: the fastest full run). */
export const COMMAND = "!testme install";

export async function untilAllFinished(world: World, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  const live = ["claimed", "queued", "running"];
  while ((await world.stack.worker.runs.listRuns(500)).some((r) => live.includes(r.state))) {
    if (Date.now() > until) throw new Error(`runs still live after ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function logSays(world: World, text: string): Promise<boolean> {
  for (const run of await world.stack.worker.runs.listRuns())
    if ((await world.stack.worker.logs.readLog(run.runId)).some((l) => l.line.includes(text))) return true;
  return false;
}

export async function untilLogSays(world: World, text: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await logSays(world, text))) {
    if (Date.now() > until) throw new Error(`the run log never said "${text}" within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The first line of `text` that matches (trimmed, at most 160 chars), for an observed column. */
export function lineOf(text: string, pattern: RegExp): string {
  return (
    text
      .split("\n")
      .find((l) => pattern.test(l))
      ?.trim()
      .slice(0, 160) ?? ""
  );
}

export function tally<T>(values: T[]): string {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n}×${v}`).join(" ");
}
