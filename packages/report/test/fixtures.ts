import type { Results, TierResult } from "@taster/contracts";
import { TIERS, type Tier } from "@taster/core";

const timings = (ms: number) => ({ hookMs: 0, opMs: ms / 2, assertMs: ms / 2, totalMs: ms });

export function tier(status: TierResult["status"], extra: Partial<TierResult> = {}): TierResult {
  return { status, tests: [], timings: timings(status === "na" ? 0 : 4_200), ...extra };
}

/** A results.json as the harness writes it, with every tier passing unless overridden. */
export function results(
  overrides: Omit<Partial<Results>, "tiers"> & { tiers?: Partial<Record<Tier, TierResult>> } = {},
): Results {
  const tiers = Object.fromEntries(
    TIERS.map((t) => [
      t,
      overrides.tiers?.[t] ??
        tier("pass", {
          tests: [{ file: `_generic/${t}.test.ts`, name: "works", status: "pass", durationMs: 10 }],
        }),
    ]),
  ) as Record<Tier, TierResult>;
  return {
    schemaVersion: 1,
    recipe: "hello-web",
    repo: "/lab/recipes/hello-web.git",
    pr: 1,
    sha: "0123456789abcdef0123456789abcdef01234567",
    stack: "t0123456789",
    domain: "t0123456789.taster.test",
    host: "unix:///var/run/docker.sock",
    level: 4,
    outcome: "pass",
    versions: { base: "1.0.0+1.0", head: "1.1.0+1.1-1-g0123456", baseReason: "latest release" },
    timings: { startedAt: "", finishedAt: "", totalMs: 93_000, deployMs: 5_000, teardownMs: 2_000 },
    manifest: null,
    backup: null,
    residue: [],
    flags: { deployCount: 1, upgradeRedeploys: 1, cleanTeardown: true, noSecretLeak: true },
    ...overrides,
    tiers,
  };
}
