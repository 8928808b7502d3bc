import type { NaKind, TestRow, TierResult } from "@taster/contracts";
import { TIERS, type Tier, type TierStatus } from "@taster/core";

/** results.json's schema and types live in @taster/contracts (readers need them without the engine). */
export {
  type LintResult,
  lintResultSchema,
  type Manifest,
  type ManifestEntry,
  manifestEntrySchema,
  manifestSchema,
  type NaKind,
  naKindSchema,
  RESULTS_SCHEMA_VERSION,
  type Results,
  resultsSchema,
  type TestRow,
  type TierResult,
  testRowSchema,
  tierResultSchema,
  validateResults,
} from "@taster/contracts";

/** The rung each tier belongs to: L1 install, L2 upgrade, L3 backup+restore, L4 custom. */
const RUNGS: { level: number; tiers: Tier[] }[] = [
  { level: 1, tiers: ["install"] },
  { level: 2, tiers: ["upgrade"] },
  { level: 3, tiers: ["backup", "restore"] },
  { level: 4, tiers: ["custom"] },
];

function countsForLadder(tier: TierResult): boolean {
  if (tier.status === "pass") return true;
  return tier.status === "na" && (tier.naKind === "declared" || tier.naKind === "not-applicable");
}

/**
 * The highest rung reached without a gap: install must pass; a neutral N/A carries the ladder on,
 * a failure, a skip or an unrequested tier stops it.
 */
export function levelOf(tiers: Record<Tier, TierResult>): number {
  if (tiers.install.status !== "pass") return 0;
  let level = 0;
  for (const rung of RUNGS) {
    if (!rung.tiers.every((t) => countsForLadder(tiers[t]))) break;
    level = rung.level;
  }
  return level;
}

/**
 * pass only when every tier passed or is N/A; any fail or unintended skip fails the run, and so
 * does a failed lint or fresh row (`extra`).
 */
export function verdictOf(
  tiers: Record<Tier, TierResult>,
  extra: (TierResult | undefined)[] = [],
): "pass" | "fail" {
  const bad: TierStatus[] = ["fail", "skip"];
  if (extra.some((row) => row?.status === "fail")) return "fail";
  return TIERS.some((t) => bad.includes(tiers[t].status)) ? "fail" : "pass";
}

/**
 * A tier's status from its rows: any failed row fails it, and so does any skipped/todo row
 * (an unintended skip once counted as green) or a tier that ran no test at all.
 */
export function tierStatusFromRows(rows: TestRow[]): { status: "pass" | "fail"; reason?: string } {
  const failed = rows.filter((r) => r.status === "fail");
  if (failed.length > 0) return { status: "fail", reason: `${failed.length} assertion(s) failed` };
  const skipped = rows.filter((r) => r.status === "skip");
  if (skipped.length > 0) {
    return { status: "fail", reason: `unintended skip: ${skipped.map((r) => r.name).join(", ")}` };
  }
  if (rows.length === 0) return { status: "fail", reason: "no assertion ran" };
  return { status: "pass" };
}

export const emptyTimings = () => ({ hookMs: 0, opMs: 0, assertMs: 0, totalMs: 0 });

export function naTier(naKind: NaKind, reason: string): TierResult {
  return { status: "na", naKind, reason, tests: [], timings: emptyTimings() };
}

export function skippedTier(reason: string): TierResult {
  return { status: "skip", reason, tests: [], timings: emptyTimings() };
}
