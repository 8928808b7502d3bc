import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { expectCleanRun, failures, statuses } from "./db-recipes";
import { labRun, rowNames } from "./lab-run";

// pg-app: a web app on a real PostgreSQL (images built from Debian packages), shaped like a Co-op
// Cloud recipe. Rows are written through the app; backup-bot-two's hooks dump and load them.
let lab: LabInfo;
const runs: Record<string, Results> = {};
const logs: Record<string, string> = {};

beforeAll(async () => {
  lab = await ensureLab();
  for (const pr of [4, 5]) {
    const run = await labRun(lab, { source: recipeRepo(lab, "pg-app"), pr });
    runs[pr] = run.results;
    logs[pr] = run.log;
  }
}, 600_000);

describe("pg-app PR #4 (a correct change)", () => {
  test("is green at L3: installed, upgraded, backed up and restored with its rows", async () => {
    const results = runs[4] as Results;
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
      "pass pg-app/upgrade.test.ts › a row written under the base release is still there after the upgrade",
    );
    expect(rowNames(results, "restore")).toContain(
      "pass pg-app/restore.test.ts › every row the app held at the backup is back after the restore",
    );
    // The backup selects the dump file only: the restore's file-by-file check is the generic proof.
    expect(logs[4]).toMatch(/no backed-up path is a directory: no marker/);
    expect(logs[4]).toMatch(/restore › restore: 1 file\(s\) put back and checked against the artifact/);
    await expectCleanRun(lab, results);
  });
});

describe("pg-app PR #5 (drops the restore post-hook)", () => {
  test("is red at restore, saying the rows did not come back and why", async () => {
    const results = runs[5] as Results;
    expect({ outcome: results.outcome, level: results.level, statuses: statuses(results) }).toEqual({
      outcome: "fail",
      level: 2,
      statuses: { install: "pass", upgrade: "pass", backup: "pass", restore: "fail", custom: "skip" },
    });
    const why = failures(results).join("\n");
    expect(why).toMatch(/rows written before the backup are missing after the restore/);
    expect(why).toMatch(/nothing loaded it back into PostgreSQL/);
    expect(why).toMatch(/backupbot\.restore\.post-hook/);
    await expectCleanRun(lab, results);
  });
});
