import { TasterError, TIERS, type Tier } from "@taster/core";
import { loadAppEnv, type Settings } from "@taster/recipe";
import { type Host, type Plan, planRecipe, type RenderCache } from "@taster/swarm";
import { emptyTimings, type LintResult, skippedTier, type TierResult } from "../results";
import { resolveServing } from "../serving";
import { backupHookFindings } from "./backup-hook";
import { composeSchemaFindings } from "./compose-schema";
import { configVersionFindings } from "./config-version";
import type { LintFinding } from "./finding";
import { healthcheckFindings } from "./healthcheck";
import { versionLabelFindings } from "./version-label";

export type { LintFinding } from "./finding";

export interface LintInput {
  host: Host;
  /** The PR head's checkout. */
  dir: string;
  /** The upgrade base, when the upgrade tier will run from one. */
  base: { dir: string; tag: string } | null;
  stack: string;
  domain: string;
  settings: Settings;
  /** The run's renderings: the plans lint makes are reused by install and the upgrade. */
  renders?: RenderCache;
}

/**
 * The lint row, before anything is deployed: what abra would refuse (errors: the run stops) or warn
 * about (warnings: listed, the run goes on). A compose that does not render at all is left to
 * install, which names it as today.
 */
export async function lintRecipe(input: LintInput): Promise<LintResult> {
  const started = Date.now();
  const findings: LintFinding[] = [];
  // Three Docker CLI renderings that do not depend on each other: started together, read in order.
  const schema = recipeOrNull(async () => {
    const env = await loadAppEnv(input.dir, { stackName: input.stack, domain: input.domain });
    return env.composeFiles;
  }).then((files) => (files ? composeSchemaFindings(input.host, input.dir, files) : []));
  const headPlan = planOrNull(input, input.dir);
  const basePlan = input.base ? planOrNull(input, input.base.dir) : Promise.resolve(null);
  // The base is only read when the head rendered: its failure alone is nobody's to report.
  for (const pending of [headPlan, basePlan]) pending.catch(() => undefined);
  findings.push(...(await schema));
  const head = await headPlan;
  if (head) {
    findings.push(...versionLabelFindings(head));
    findings.push(...healthcheckFindings(head, resolveServing(head, input.settings).service));
    findings.push(...backupHookFindings(head));
    const base = await basePlan;
    if (base && input.base) findings.push(...(await configVersionFindings(head, base, input.base.tag)));
  }
  return lintResult(findings, Date.now() - started);
}

const planOrNull = (input: LintInput, dir: string): Promise<Plan | null> =>
  recipeOrNull(() =>
    planRecipe(input.host, {
      dir,
      stack: input.stack,
      domain: input.domain,
      env: input.settings.env,
      ...(input.renders ? { renders: input.renders } : {}),
    }),
  );

/** A recipe that does not load or render is install's to report (as before lint existed). */
async function recipeOrNull<T>(load: () => Promise<T>): Promise<T | null> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof TasterError && error.kind === "recipe") return null;
    throw error;
  }
}

export function lintResult(findings: LintFinding[], totalMs: number): LintResult {
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.length - errors;
  const counts = [errors && `${errors} error(s)`, warnings && `${warnings} warning(s)`].filter(Boolean);
  return {
    status: errors > 0 ? "fail" : "pass",
    ...(counts.length ? { reason: counts.join(", ") } : {}),
    tests: [],
    findings,
    timings: { ...emptyTimings(), totalMs },
  };
}

/** A lint error stops the run before install: every tier is "not run", nothing is deployed. */
export function tiersStoppedByLint(lint: LintResult): Partial<Record<Tier, TierResult>> {
  const why = `not run: lint found ${lint.reason ?? "errors"}`;
  return Object.fromEntries(TIERS.map((t) => [t, skippedTier(why)]));
}

/** One log line per finding, e.g. "ERROR compose-schema: …". */
export const describeFinding = (f: LintResult["findings"][number]) =>
  `${f.severity.toUpperCase()} ${f.check}: ${f.message}`;
