import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { expectCleanRun, statuses } from "./db-recipes";
import { labRun } from "./lab-run";

// pg-app PR #6 adds a NOT NULL column without a default: fine on an empty database (a fresh
// install), fatal on one with rows — which is what every operator upgrading has.
let lab: LabInfo;
let results: Results;

beforeAll(async () => {
  lab = await ensureLab();
  results = (await labRun(lab, { source: recipeRepo(lab, "pg-app"), pr: 6 })).results;
}, 300_000);

describe("pg-app PR #6 (a migration that fails on existing rows)", () => {
  test("is red at upgrade, quoting the database's own error from the app's last output", async () => {
    expect({ outcome: results.outcome, level: results.level, upgrade: statuses(results).upgrade }).toEqual({
      outcome: "fail",
      level: 1,
      upgrade: "fail",
    });
    expect(results.tiers.upgrade.reason).toMatch(/update rolled back/);
    expect(results.tiers.upgrade.reason).toMatch(
      /its last output: «.*column "author" of relation "rows" contains null values/,
    );
    await expectCleanRun(lab, results);
  });
});
