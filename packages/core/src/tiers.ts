export const TIERS = ["install", "upgrade", "backup", "restore", "custom"] as const;
export type Tier = (typeof TIERS)[number];

/**
 * Opt-in stages beside the tiers: `fresh` installs the PR head from scratch on a stack of its own
 * (apart from the one deployment the tiers share). Naming one adds it without narrowing the tiers.
 */
export const OPT_IN_STAGES = ["fresh"] as const;
export type OptInStage = (typeof OPT_IN_STAGES)[number];
export const STAGES = [...TIERS, ...OPT_IN_STAGES] as const;
export type Stage = (typeof STAGES)[number];

/** pass/fail as run; `na` = declared not applicable (neutral); `skip` = not run, which fails a run. */
export type TierStatus = "pass" | "fail" | "skip" | "na";

export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}

export function isStage(value: string): value is Stage {
  return (STAGES as readonly string[]).includes(value);
}

/**
 * Parses "upgrade,backup" into stages in lifecycle order; install is always implied. Tiers named
 * narrow the run to install plus those; opt-in stages only add: "fresh" alone is every tier + fresh.
 */
export function parseStages(spec: string | undefined): Stage[] {
  const wanted = (spec ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const unknown = wanted.filter((s) => !isStage(s));
  if (unknown.length > 0) {
    throw new Error(`unknown stage(s): ${unknown.join(", ")} (known: ${STAGES.join(", ")})`);
  }
  const namesTiers = wanted.some(isTier);
  return STAGES.filter((s) => s === "install" || wanted.includes(s) || (!namesTiers && isTier(s)));
}

/** The tiers of a stage list (what the lifecycle runs), without the opt-in stages. */
export const tiersOf = (stages: readonly Stage[]): Tier[] => stages.filter(isTier);
