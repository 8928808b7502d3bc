import { describe, expect, test } from "@jest/globals";
import type { Tier } from "@taster/core";
import {
  emptyTimings,
  levelOf,
  naTier,
  RESULTS_SCHEMA_VERSION,
  skippedTier,
  type TierResult,
  tierStatusFromRows,
  validateResults,
  verdictOf,
} from "../src/results";

const pass = (): TierResult => ({ status: "pass", tests: [], timings: emptyTimings() });
const fail = (): TierResult => ({ status: "fail", reason: "boom", tests: [], timings: emptyTimings() });
const tiers = (over: Partial<Record<Tier, TierResult>>): Record<Tier, TierResult> => ({
  install: pass(),
  upgrade: pass(),
  backup: pass(),
  restore: pass(),
  custom: pass(),
  ...over,
});

describe("level ladder", () => {
  test("all tiers passing reach L4", () => {
    expect(levelOf(tiers({}))).toBe(4);
    expect(verdictOf(tiers({}))).toBe("pass");
  });

  test("install failing is L0 whatever else says", () => {
    expect(levelOf(tiers({ install: fail() }))).toBe(0);
  });

  test("each rung stops at its first failure", () => {
    expect(levelOf(tiers({ upgrade: fail() }))).toBe(1);
    expect(levelOf(tiers({ restore: fail() }))).toBe(2);
    expect(levelOf(tiers({ custom: fail() }))).toBe(3);
  });

  test("declared or natural N/A is neutral and does not block the next rung", () => {
    const t = tiers({
      upgrade: naTier("not-applicable", "no release older than the head"),
      backup: naTier("declared", "stateless"),
      restore: naTier("declared", "stateless"),
    });
    expect(levelOf(t)).toBe(4);
    expect(verdictOf(t)).toBe("pass");
  });

  test("a tier left out by --stages passes the verdict but stops the ladder (never overstated)", () => {
    const t = tiers({ upgrade: naTier("not-requested", "not in --stages") });
    expect(verdictOf(t)).toBe("pass");
    expect(levelOf(t)).toBe(1);
  });

  test("a tier with nothing to run (no custom tests) passes the verdict but is not claimed as a level", () => {
    const t = tiers({ custom: naTier("untested", "no custom tests (custom/*.test.ts)") });
    expect(verdictOf(t)).toBe("pass");
    expect(levelOf(t)).toBe(3);
  });

  test("an unintended skip fails the run", () => {
    const t = tiers({ custom: skippedTier("not run: restore failed") });
    expect(verdictOf(t)).toBe("fail");
    expect(levelOf(t)).toBe(3);
  });
});

describe("tier status from jest rows", () => {
  const row = (status: "pass" | "fail" | "skip", name = "x") => ({ file: "f", name, status, durationMs: 1 });
  test("all passing rows pass", () => expect(tierStatusFromRows([row("pass")]).status).toBe("pass"));
  test("a failed row fails", () =>
    expect(tierStatusFromRows([row("pass"), row("fail")]).status).toBe("fail"));
  test("a skipped row fails and is named", () => {
    expect(tierStatusFromRows([row("pass"), row("skip", "later")])).toEqual({
      status: "fail",
      reason: "unintended skip: later",
    });
  });
  test("no rows at all fails", () => expect(tierStatusFromRows([]).status).toBe("fail"));
});

describe("results schema", () => {
  const valid = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    recipe: "hello-web",
    repo: "/r/hello-web.git",
    pr: 1,
    sha: "a".repeat(40),
    stack: "t0123456789",
    domain: "t0123456789.taster.test",
    host: "unix:///var/run/docker.sock",
    level: 4,
    outcome: "pass",
    versions: { base: "1.1.0+1.1", head: "1.1.0+1.1+aaaaaaaa", baseReason: "newest older release" },
    tiers: tiers({}),
    timings: { startedAt: "x", finishedAt: "y", totalMs: 1, deployMs: 1, teardownMs: 1 },
    manifest: null,
    residue: [],
    backup: null,
    flags: { deployCount: 1, upgradeRedeploys: 1, cleanTeardown: true, noSecretLeak: true },
  };
  test("accepts a complete result", () => expect(validateResults(valid).level).toBe(4));
  test("rejects an unknown schema version and a missing tier", () => {
    expect(() => validateResults({ ...valid, schemaVersion: 2 })).toThrow();
    const { custom: _c, ...four } = tiers({});
    expect(() => validateResults({ ...valid, tiers: four })).toThrow(/custom/);
  });
});
