import { describe, expect, test } from "@jest/globals";
import { TIERS } from "@taster/core";
import { emptyTimings, type Results, type TierResult } from "../src/results";
import { resultsTable } from "../src/table";

const ESC = "\u001b";

/** Results whose test name, failure and reason carry terminal escapes, as a PR may write them. */
function hostileResults(): Results {
  const pass = (): TierResult => ({ status: "pass", tests: [], timings: emptyTimings() });
  const custom: TierResult = {
    status: "fail",
    reason: `unintended skip: clears ${ESC}[2J${ESC}[H the screen`,
    tests: [
      {
        file: "tests/taster/custom.test.ts",
        name: `retitles ${ESC}]0;pwned${ESC}\\ the terminal`,
        status: "fail",
        durationMs: 1,
        failure: `${ESC}[31mred${ESC}[0m\r\nsecond line\u202E`,
      },
    ],
    timings: emptyTimings(),
  };
  return {
    schemaVersion: 1,
    recipe: "hello-web",
    repo: "coop-cloud/hello-web",
    pr: 1,
    sha: "0".repeat(40),
    stack: "t0",
    domain: "t0.test",
    host: "lab",
    level: 3,
    outcome: "fail",
    versions: { base: null, head: "1.0.0+1.0", baseReason: "" },
    tiers: Object.fromEntries(TIERS.map((t) => [t, t === "custom" ? custom : pass()])) as Results["tiers"],
    timings: { startedAt: "", finishedAt: "", totalMs: 1, deployMs: 0, teardownMs: 0 },
    manifest: null,
    backup: null,
    residue: [],
    flags: { deployCount: 1, upgradeRedeploys: 0, cleanTeardown: true, noSecretLeak: true },
  };
}

describe("the CLI's results table", () => {
  test("prints PR text without terminal escapes, keeping what it says", () => {
    const table = resultsTable(hostileResults());
    expect(table).not.toContain(ESC);
    expect(table).not.toContain("\r");
    expect(table).not.toContain("\u202E");
    expect(table).toContain("unintended skip: clears  the screen");
    expect(table).toContain("custom: tests/taster/custom.test.ts › retitles  the terminal");
    expect(table).toContain("    red\n    second line");
  });
});
