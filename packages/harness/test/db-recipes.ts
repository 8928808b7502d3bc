import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { labRun, residueOf, rowNames } from "./lab-run";

/** What every run of a lab database recipe must show whatever its verdict: one deploy, no residue. */
export async function expectCleanRun(lab: LabInfo, results: Results): Promise<void> {
  expect(results.flags.deployCount).toBe(1);
  expect(results.flags.cleanTeardown).toBe(true);
  expect(results.flags.noSecretLeak).toBe(true);
  expect(await residueOf(lab, results.stack)).toEqual([]);
}

export const statuses = (results: Results) =>
  Object.fromEntries(Object.entries(results.tiers).map(([tier, result]) => [tier, result.status]));

/** The failures a maintainer reads in the PR comment, one line each. */
export const failures = (results: Results) =>
  Object.values(results.tiers).flatMap((tier) =>
    tier.tests.filter((row) => row.status === "fail").map((row) => `${row.name}: ${row.failure ?? ""}`),
  );

export interface DbRecipe {
  name: string;
  /** The database, as the overlay's failure message names it. */
  database: string;
  /** A correct PR, and one that drops the restore post-hook. */
  goodPr: number;
  noRestoreHookPr: number;
}

/**
 * A web app on a real database (images built from Debian packages), shaped like a Co-op Cloud
 * recipe: rows written through the app, backup-bot-two's hooks dumping and loading them.
 */
export function describeDbRecipe({ name, database, goodPr, noRestoreHookPr }: DbRecipe): void {
  let lab: LabInfo;
  const runs: Record<number, { results: Results; log: string }> = {};

  beforeAll(async () => {
    lab = await ensureLab();
    for (const pr of [goodPr, noRestoreHookPr])
      runs[pr] = await labRun(lab, { source: recipeRepo(lab, name), pr });
  }, 600_000);

  describe(`${name} PR #${goodPr} (a correct change)`, () => {
    test("is green at L3: installed, upgraded, backed up and restored with its rows", async () => {
      const { results, log } = runs[goodPr] as { results: Results; log: string };
      expect({
        outcome: results.outcome,
        level: results.level,
        statuses: statuses(results),
        failures: failures(results),
      }).toEqual({
        outcome: "pass",
        level: 3,
        statuses: { install: "pass", upgrade: "pass", backup: "pass", restore: "pass", custom: "na" },
        failures: [],
      });
      expect(rowNames(results, "upgrade")).toContain(
        `pass ${name}/upgrade.test.ts › a row written under the base release is still there after the upgrade`,
      );
      expect(rowNames(results, "restore")).toContain(
        `pass ${name}/restore.test.ts › every row the app held at the backup is back after the restore`,
      );
      // The backup selects the dump file only: the restore's file-by-file check is the generic proof.
      expect(log).toMatch(/no backed-up path is a directory: no marker/);
      expect(log).toMatch(/restore › restore: 1 file\(s\) put back and checked against the artifact/);
      await expectCleanRun(lab, results);
    });
  });

  describe(`${name} PR #${noRestoreHookPr} (drops the restore post-hook)`, () => {
    test("is red at restore, saying the rows did not come back and why", async () => {
      const { results } = runs[noRestoreHookPr] as { results: Results };
      expect({ outcome: results.outcome, level: results.level, statuses: statuses(results) }).toEqual({
        outcome: "fail",
        level: 2,
        statuses: { install: "pass", upgrade: "pass", backup: "pass", restore: "fail", custom: "skip" },
      });
      const why = failures(results).join("\n");
      expect(why).toMatch(/rows written before the backup are missing after the restore/);
      expect(why).toContain(`nothing loaded it back into ${database}`);
      expect(why).toMatch(/backupbot\.restore\.post-hook/);
      await expectCleanRun(lab, results);
    });
  });
}
