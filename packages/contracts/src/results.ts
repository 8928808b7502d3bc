/**
 * results.json: what a run writes and every reader (worker, bridge, dashboard, CLI) parses. The one
 * definition, so the bridge can read results without loading the engine that writes them.
 */
import { TIERS, type Tier } from "@taster/core";
import { z } from "zod";

/** Bump when a field changes meaning; readers (worker, bridge) refuse versions they do not know. */
export const RESULTS_SCHEMA_VERSION = 1;

export const testRowSchema = z.object({
  file: z.string(),
  name: z.string(),
  status: z.enum(["pass", "fail", "skip"]),
  durationMs: z.number().nonnegative(),
  failure: z.string().optional(),
});
export type TestRow = z.infer<typeof testRowSchema>;

/**
 * Why a tier was not run, when it was not. Only `declared` (taster.yml `na`) and `not-applicable`
 * (no upgrade base, not backup-capable) are neutral for the level ladder; `not-requested`
 * (--stages) and `untested` (nothing to run, e.g. no custom tests) are neutral for the verdict
 * but stop the ladder, so a run never shows a higher level than it proved.
 */
export const naKindSchema = z.enum(["declared", "not-applicable", "not-requested", "untested"]);
export type NaKind = z.infer<typeof naKindSchema>;

export const tierResultSchema = z.object({
  status: z.enum(["pass", "fail", "skip", "na"]),
  naKind: naKindSchema.optional(),
  reason: z.string().optional(),
  /**
   * What the tier's op deployed, when it deployed: `1.1.0+1.1` (a release), `head abc1234` (the
   * PR head) or `→ head abc1234` (the upgrade onto the head). "install PASS" alone may be the base.
   */
  deployed: z.string().optional(),
  tests: z.array(testRowSchema),
  timings: z.object({
    hookMs: z.number().nonnegative(),
    opMs: z.number().nonnegative(),
    assertMs: z.number().nonnegative(),
    totalMs: z.number().nonnegative(),
  }),
});
export type TierResult = z.infer<typeof tierResultSchema>;

/** The lint row (before install): a tier-like row plus what it found (see src/lint/). */
export const lintResultSchema = tierResultSchema.extend({
  findings: z.array(
    z.object({
      check: z.string(),
      severity: z.enum(["error", "warning"]),
      message: z.string(),
      source: z.string(),
    }),
  ),
});
export type LintResult = z.infer<typeof lintResultSchema>;

export const manifestEntrySchema = z.object({
  kind: z.enum(["assertion", "custom", "hook"]),
  tier: z.string(),
  source: z.enum(["generic", "overlay", "repo-local"]),
  path: z.string(),
  allowed: z.boolean(),
  why: z.string(),
});
export type ManifestEntry = z.infer<typeof manifestEntrySchema>;

export const manifestSchema = z.object({
  recipe: z.string(),
  settingsFile: z.string().nullable(),
  upgradeBase: z.object({ base: z.string().nullable(), reason: z.string() }),
  backupCapable: z.boolean(),
  /** The serving target of the zero-config floor and where each value came from (known once planned). */
  serving: z.string().optional(),
  repoLocal: z.object({
    allowed: z.boolean(),
    why: z.string(),
    treeHash: z.string().nullable(),
    /** Not approved: the command an admin runs, after review, to approve this content. */
    approve: z.string().optional(),
  }),
  files: z.array(manifestEntrySchema),
  /** The app env as an operator has it (`abra app new`), what release notes added, how secrets were made. */
  appEnv: z
    .object({
      from: z.string(),
      added: z.array(z.object({ key: z.string(), from: z.string() })),
      secrets: z.array(z.object({ name: z.string(), source: z.string() })),
    })
    .optional(),
});
export type Manifest = z.infer<typeof manifestSchema>;

const tiersShape = Object.fromEntries(TIERS.map((t) => [t, tierResultSchema])) as Record<
  Tier,
  typeof tierResultSchema
>;

export const resultsSchema = z.object({
  schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
  recipe: z.string(),
  repo: z.string(),
  pr: z.number().int().nonnegative(),
  sha: z.string(),
  stack: z.string(),
  domain: z.string(),
  host: z.string(),
  level: z.number().int().min(0).max(4),
  outcome: z.enum(["pass", "fail", "error"]),
  error: z.string().optional(),
  /**
   * With outcome `error`: whose error it is. `config`: Taster's own settings for the recipe
   * (taster.yml) are wrong, nothing about the recipe was judged and a retry cannot help;
   * `infra` (or absent): the test infrastructure.
   */
  errorKind: z.enum(["config", "infra", "usage"]).optional(),
  versions: z.object({
    base: z.string().nullable(),
    head: z.string(),
    baseReason: z.string(),
  }),
  tiers: z.object(tiersShape),
  /** Checks abra would refuse or warn about, before install; absent in results of older runs. */
  lint: lintResultSchema.optional(),
  /** The head installed from scratch on a stack of its own (opt-in); absent when not requested. */
  fresh: tierResultSchema.optional(),
  /**
   * A re-check (`!testme failed`) of the tiers that failed in run `of` on the same commit: each
   * one red again (a genuine failure), green this time (it failed before: flaky), or not run.
   */
  recheck: z
    .object({
      of: z.string(),
      tiers: z.partialRecord(z.enum(TIERS), z.enum(["red-again", "green", "not-run"])),
    })
    .optional(),
  timings: z.object({
    startedAt: z.string(),
    finishedAt: z.string(),
    totalMs: z.number().nonnegative(),
    deployMs: z.number().nonnegative(),
    teardownMs: z.number().nonnegative(),
  }),
  manifest: manifestSchema.nullable(),
  backup: z
    .object({
      size: z.number().int().nonnegative(),
      sha256: z.string(),
      entries: z.array(z.object({ service: z.string(), paths: z.array(z.string()) })),
    })
    .nullable(),
  residue: z.array(z.string()),
  flags: z.object({
    /** Fresh deployments of the stack: must be 1 (the upgrade redeploys in place, counted apart). */
    deployCount: z.number().int().nonnegative(),
    upgradeRedeploys: z.number().int().nonnegative(),
    /** Deployments of the fresh tier's own stack (1 when it ran), apart from deployCount. */
    freshDeploys: z.number().int().nonnegative().optional(),
    cleanTeardown: z.boolean(),
    noSecretLeak: z.boolean(),
  }),
});
export type Results = z.infer<typeof resultsSchema>;

/** Validates before writing, so a results.json on disk always parses for its readers. */
export function validateResults(results: unknown): Results {
  return resultsSchema.parse(results);
}

/**
 * The results of a run that deployed nothing: every tier the same `tier` row, no stack, no
 * timings. For a run that could not run (it still ends with a verdict a maintainer can read) and
 * for stand-in runs (benches).
 */
export function resultsWithoutDeploy(
  run: Pick<Results, "recipe" | "repo" | "pr" | "sha" | "level" | "outcome" | "versions"> &
    Partial<Pick<Results, "error">>,
  tier: TierResult,
): Results {
  const now = new Date().toISOString();
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    ...run,
    stack: "",
    domain: "",
    host: "",
    tiers: Object.fromEntries(TIERS.map((t) => [t, tier])) as Results["tiers"],
    timings: { startedAt: now, finishedAt: now, totalMs: 0, deployMs: 0, teardownMs: 0 },
    manifest: null,
    backup: null,
    residue: [],
    flags: { deployCount: 0, upgradeRedeploys: 0, cleanTeardown: true, noSecretLeak: true },
  };
}
