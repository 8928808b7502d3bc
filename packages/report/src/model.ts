/**
 * One model of a run's report, read by every surface (PR comment, check run, dashboard, CLI table):
 * the rows in run order, what each status is called, how tests are counted, how time reads.
 */

import type { Results, TierResult } from "@taster/contracts";
import { TIERS } from "@taster/core";

export type RowStatus = TierResult["status"];

/** What a tier's status is called wherever a person reads it (the CLI table shouts PASS/FAIL apart). */
export const STATUS_WORD: Record<RowStatus, string> = {
  pass: "pass",
  fail: "FAIL",
  skip: "not run",
  na: "n/a",
};

/** What a run's outcome is called: "passed, level L3". */
export const OUTCOME_WORD: Record<Results["outcome"], string> = {
  pass: "passed",
  fail: "failed",
  error: "errored",
};

/** 4.2s, 3m 20s, 1h 5m. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** The rows in run order: lint (before anything is deployed), the tiers, then fresh. */
export function rowsOf(results: Results): [string, TierResult][] {
  return [
    ...(results.lint ? [["lint", results.lint] as [string, TierResult]] : []),
    ...TIERS.map((tier): [string, TierResult] => [tier, results.tiers[tier]]),
    ...(results.fresh ? [["fresh", results.fresh] as [string, TierResult]] : []),
  ];
}

/** `3/4` (passed of run) for a row's own tests, Taster's bookkeeping rows left out; undefined when none ran. */
export function testCount(result: TierResult): string | undefined {
  const tests = result.tests.filter((r) => r.file !== "(taster)");
  const passed = tests.filter((r) => r.status === "pass").length;
  return tests.length ? `${passed}/${tests.length}` : undefined;
}

/** One failed or skipped test, as every surface lists it. */
export interface FailureItem {
  tier: string;
  name: string;
  text: string;
}

export function failuresOf(results: Results): FailureItem[] {
  return rowsOf(results).flatMap(([tier, row]) =>
    row.tests
      .filter((r) => r.status !== "pass")
      .map((r) => ({
        tier,
        name: r.file === "(taster)" ? r.name : `${r.file} › ${r.name}`,
        text: r.failure ?? (r.status === "skip" ? "skipped (an unintended skip fails the run)" : ""),
      })),
  );
}

/** What a green table must not hide: repo-local files that were found but did not run, and the fix. */
export interface NotRunNotice {
  /** `2 repo-local test files not run: not approved` */
  line: string;
  /** The exact command an admin runs after reviewing the content, when approval is the fix. */
  approve?: string;
}

/**
 * The repo-local files this run found and did not run (the manifest's DENY lines), as one line
 * the CLI table and the PR comment show next to the tiers; null when every file found ran.
 */
export function repoLocalNotRun(results: Results): NotRunNotice | null {
  const manifest = results.manifest;
  if (!manifest) return null;
  const denied = manifest.files.filter((f) => f.source === "repo-local" && !f.allowed).length;
  if (denied === 0) return null;
  const files = `${denied} repo-local test file${denied === 1 ? "" : "s"} not run`;
  const approve = manifest.repoLocal.approve;
  if (!approve) return { line: `${files}: ${manifest.repoLocal.why}` };
  return { line: `${files}: not approved`, approve };
}
