/**
 * Runs scenarios against the real system and scores them: one row per scenario and round, a
 * scenario passes only when it observed what it expected AND every invariant holds afterwards.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { usageError } from "@taster/core";
import { brokenInvariants } from "./invariants";
import { SCENARIOS, type Scenario } from "./scenarios/index";
import { startWorld } from "./world";

export interface ScoreRow {
  round: number;
  id: string;
  did: string;
  expected: string;
  observed: string;
  pass: boolean;
  seconds: number;
}

export interface ChaosOptions {
  rounds?: number;
  /** Scenario ids to run (default all). */
  only?: string[];
  /** Called with each row as soon as it is scored. */
  onRow?: (row: ScoreRow) => void;
}

/** Bounds one scenario, so a hung system fails the row instead of the whole suite. */
const SCENARIO_TIMEOUT_MS = 6 * 60_000;
/** Bounds the checks and the clean-up after it, so a hung close cannot freeze the suite either. */
const CHECK_TIMEOUT_MS = 2 * 60_000;

export function selectScenarios(only?: string[]): Scenario[] {
  if (!only?.length) return SCENARIOS;
  const unknown = only.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length)
    throw usageError(
      `unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.id).join(", ")}`,
    );
  return SCENARIOS.filter((s) => only.includes(s.id));
}

export async function runChaos(options: ChaosOptions = {}): Promise<ScoreRow[]> {
  const scenarios = selectScenarios(options.only);
  const rounds = options.rounds ?? 1;
  const rows: ScoreRow[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const scenario of scenarios) {
      const row = await score(scenario, round);
      rows.push(row);
      options.onRow?.(row);
    }
  }
  return rows;
}

async function score(scenario: Scenario, round: number): Promise<ScoreRow> {
  const started = Date.now();
  const base = { round, id: scenario.id, did: scenario.did, expected: scenario.expected };
  const seconds = () => Math.round((Date.now() - started) / 1000);
  let world: Awaited<ReturnType<typeof startWorld>> | undefined;
  let prepared: Awaited<ReturnType<NonNullable<Scenario["setup"]>>> | undefined;
  try {
    prepared = await scenario.setup?.();
    world = await startWorld(scenario.id, { ...scenario.world, ...prepared?.world });
    const active = world;
    const { observed, problems } = await withTimeout(scenario.run(active), SCENARIO_TIMEOUT_MS, "scenario");
    problems.push(
      ...(await withTimeout(brokenInvariants(active, scenario.expect), CHECK_TIMEOUT_MS, "invariant check")),
    );
    const detail = problems.length ? `${observed} — BROKEN: ${problems.join("; ")}` : observed;
    const kept = problems.length ? await keepLog(world, scenario.id, round) : "";
    return { ...base, observed: detail + kept, pass: problems.length === 0, seconds: seconds() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const kept = await keepLog(world, scenario.id, round);
    return { ...base, observed: `error: ${message}${kept}`, pass: false, seconds: seconds() };
  } finally {
    if (world) await withTimeout(world.close(), CHECK_TIMEOUT_MS, "closing the world").catch(() => {});
    await prepared?.cleanup();
  }
}

/** Where a failing row's bridge and worker log went: a flake seen once must be explainable afterwards. */
const FAILED_LOGS_DIR = join("test-artifacts", "chaos");

async function keepLog(
  world: { logLines: string[] } | undefined,
  id: string,
  round: number,
): Promise<string> {
  if (!world) return "";
  const file = join(FAILED_LOGS_DIR, `${id}-round${round}-${Date.now()}.log`);
  try {
    await mkdir(FAILED_LOGS_DIR, { recursive: true });
    await writeFile(file, `${world.logLines.join("\n")}\n`);
    return ` (log: ${file})`;
  } catch (error) {
    return ` (its log could not be kept: ${error instanceof Error ? error.message : error})`;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000}s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function formatRow(row: ScoreRow): string {
  const verdict = row.pass ? "PASS" : "FAIL";
  return `${row.round} | ${row.id} | ${row.did} | ${row.expected} | ${row.observed} | ${verdict} (${row.seconds}s)`;
}

export function formatTotal(rows: ScoreRow[]): string {
  const passed = rows.filter((r) => r.pass).length;
  return `total: ${passed}/${rows.length} PASS${passed === rows.length ? "" : `, ${rows.length - passed} FAIL`}`;
}
