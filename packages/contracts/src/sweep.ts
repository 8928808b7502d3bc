/**
 * sweep.json: what `taster sweep` (and the service's scheduled sweep) writes, one row per enrolled
 * recipe at its latest release. Defined here so the dashboard reads sweeps without engine code.
 */
import { z } from "zod";

export const SWEEP_SCHEMA_VERSION = 1;

/** Why a tier that failed in the sweep failed: green when re-run alone, red again, or the infrastructure. */
export const flakeClassSchema = z.enum(["flake", "genuine", "infra"]);
export type FlakeClass = z.infer<typeof flakeClassSchema>;

/** One re-run of a failed tier, alone on the host. */
export const sweepAttemptSchema = z.object({
  attempt: z.number().int().positive(),
  /** The tier's status in this re-run; `error` = the run stopped on an infrastructure error. */
  status: z.enum(["pass", "fail", "error"]),
  durationMs: z.number().nonnegative(),
  /** No other Taster stack was on the host when the re-run started (false: `others` were, after the idle wait). */
  alone: z.boolean(),
  others: z.array(z.string()),
  error: z.string().optional(),
  /** Paths of the attempt's results.json and run.log, relative to the sweep directory. */
  results: z.string(),
  log: z.string(),
});
export type SweepAttempt = z.infer<typeof sweepAttemptSchema>;

export const sweepTierSchema = z.object({
  status: z.enum(["pass", "fail", "skip", "na", "error"]),
  durationMs: z.number().nonnegative(),
  classification: flakeClassSchema.optional(),
  attempts: z.array(sweepAttemptSchema).optional(),
});
export type SweepTier = z.infer<typeof sweepTierSchema>;

/**
 * A warm recipe's known-good in this sweep (docs/sweep.md): `kept` (the first green sweep kept its
 * data), `advanced` (the newest release upgraded over a copy of it and passed: the copy is the new
 * known-good), `advance-failed` (it did not: the previous known-good is untouched, `reason` says
 * why), `unchanged` (the known-good already is the newest release), `not-kept` (no known-good yet
 * and none could be kept).
 */
export const sweepWarmSchema = z.object({
  action: z.enum(["kept", "advanced", "advance-failed", "unchanged", "not-kept"]),
  /** The known-good's release after this sweep (null: there is none). */
  version: z.string().nullable(),
  /** The known-good's release before this sweep (null: there was none). */
  from: z.string().nullable(),
  reason: z.string().optional(),
  /** The advance run's results.json and run.log, relative to the sweep directory. */
  results: z.string().optional(),
  log: z.string().optional(),
});
export type SweepWarm = z.infer<typeof sweepWarmSchema>;

export const sweepRowSchema = z.object({
  recipe: z.string(),
  repo: z.string(),
  /** The release tested (the newest release tag), null when the recipe has none. */
  version: z.string().nullable(),
  /** The release the upgrade started from, null when there is none. */
  base: z.string().nullable(),
  sha: z.string().nullable(),
  level: z.number().int().min(0).max(4),
  verdict: z.enum(["pass", "fail", "error"]),
  error: z.string().optional(),
  tiers: z.record(z.string(), sweepTierSchema),
  /** The recipe's worst failed tier: genuine over infra over flake; null when nothing failed. */
  classification: flakeClassSchema.nullable(),
  startedAt: z.string(),
  durationMs: z.number().nonnegative(),
  /** The sweep run's results.json and run.log, relative to the sweep directory (absent: no run happened). */
  results: z.string().optional(),
  log: z.string().optional(),
  /** Only for a recipe with `warm: true`. */
  warm: sweepWarmSchema.optional(),
});
export type SweepRow = z.infer<typeof sweepRowSchema>;

export const sweepSchema = z.object({
  schemaVersion: z.literal(SWEEP_SCHEMA_VERSION),
  host: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** Re-runs allowed per failed tier. */
  attempts: z.number().int().nonnegative(),
  recipes: z.array(sweepRowSchema),
});
export type Sweep = z.infer<typeof sweepSchema>;
