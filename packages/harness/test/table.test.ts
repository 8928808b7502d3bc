import { describe, expect, test } from "@jest/globals";
import { TIERS } from "@taster/core";
import { emptyTimings, type Results, type TierResult } from "../src/results";
import { resultsTable } from "../src/table";

const passing = (): TierResult => ({ status: "pass", tests: [], timings: emptyTimings() });

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

/** A green run of hello-local whose repo-local tests were found and not approved. */
function greenWithDeniedRepoLocal(): Results {
  const results = hostileResults();
  const tree = "5d1c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d";
  results.outcome = "pass";
  results.tiers.custom = passing();
  results.tiers.install = { ...passing(), deployed: "1.1.0+1.1" };
  results.tiers.upgrade = { ...passing(), deployed: "→ head abc1234" };
  const denied = (tier: string, path: string) => ({
    kind: "assertion" as const,
    tier,
    source: "repo-local" as const,
    path,
    allowed: false,
    why: "not on the allowlist",
  });
  results.manifest = {
    recipe: "hello-web",
    settingsFile: null,
    upgradeBase: { base: "1.1.0+1.1", reason: "" },
    backupCapable: false,
    repoLocal: {
      allowed: false,
      why: "coop-cloud/hello-web is not on the repo-local allowlist (default-deny): an admin reviews it and pins it",
      treeHash: tree,
      approve: `./taster allowlist add coop-cloud/hello-web --tree ${tree} --by <your login> --why "<what you reviewed>"`,
    },
    files: [denied("install", "<recipe>/tests/taster/install.test.ts"), denied("upgrade", "u.test.ts")],
  };
  return results;
}

describe("what a green table must not hide", () => {
  test("repo-local files that did not run, with the command an admin runs to approve them", () => {
    const table = resultsTable(greenWithDeniedRepoLocal());
    expect(table).toContain("2 repo-local test files not run: not approved");
    expect(table).toContain(
      "an admin approves this content with: ./taster allowlist add coop-cloud/hello-web --tree 5d1c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d",
    );
  });

  test("which version each tier deployed: install may have deployed the upgrade base", () => {
    const table = resultsTable(greenWithDeniedRepoLocal());
    expect(table).toMatch(/^install \(1\.1\.0\+1\.1\)\s+PASS/m);
    expect(table).toMatch(/^upgrade \(→ head abc1234\)\s+PASS/m);
  });

  test("an error in Taster's own taster.yml is one line: ERROR, the file, the key, no tiers, no level", () => {
    const results = hostileResults();
    results.outcome = "error";
    results.errorKind = "config";
    results.level = 0;
    results.error = '/srv/taster/recipes-tests/hello-web/taster.yml: unknown key "healthPth"';
    const table = resultsTable(results);
    expect(table.split("\n")).toHaveLength(1);
    expect(table).toContain("ERROR");
    expect(table).toContain('recipes-tests/hello-web/taster.yml: unknown key "healthPth"');
    expect(table).not.toMatch(/\bL0\b|level|install/);
  });
});
