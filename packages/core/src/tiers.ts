export const TIERS = ["install", "upgrade", "backup", "restore", "custom"] as const;
export type Tier = (typeof TIERS)[number];

/** pass/fail as run; `na` = declared not applicable (neutral); `skip` = not run, which fails a run. */
export type TierStatus = "pass" | "fail" | "skip" | "na";

export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}

/** Parses "upgrade,backup" into tiers in lifecycle order; install is always implied. */
export function parseStages(spec: string | undefined): Tier[] {
  if (!spec || spec.trim() === "") return [...TIERS];
  const wanted = spec
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const unknown = wanted.filter((s) => !isTier(s));
  if (unknown.length > 0) {
    throw new Error(`unknown stage(s): ${unknown.join(", ")} (known: ${TIERS.join(", ")})`);
  }
  return TIERS.filter((t) => t === "install" || wanted.includes(t));
}
