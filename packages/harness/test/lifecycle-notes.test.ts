import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { labRun, residueOf, rowNames } from "./lab-run";

let lab: LabInfo;
let run: Awaited<ReturnType<typeof labRun>>;
let results: Results;

beforeAll(async () => {
  lab = await ensureLab();
  // PR #2 bumps the golang-templated config to v2 through abra.sh: a new config object, in place.
  run = await labRun(lab, { source: recipeRepo(lab, "notes"), pr: 2 });
  results = run.results;
}, 300_000);

describe("notes PR #2 over 0.2.0+2.1: two services, secret, config v2, DB-style backup hooks", () => {
  test("is green on all tiers with one deployment and zero residue", async () => {
    const statuses = Object.fromEntries(Object.entries(results.tiers).map(([t, r]) => [t, r.status]));
    const failures = Object.values(results.tiers).flatMap((t) =>
      t.tests.filter((r) => r.status !== "pass").map((r) => `${r.name}: ${r.failure}`),
    );
    expect({ outcome: results.outcome, statuses, error: results.error, failures }).toEqual({
      outcome: "pass",
      statuses: { install: "pass", upgrade: "pass", backup: "pass", restore: "pass", custom: "na" },
      error: undefined,
      failures: [],
    });
    // No custom tests: the run passes, but L4 is not claimed.
    expect(results.level).toBe(3);
    expect(results.flags.deployCount).toBe(1);
    expect(results.flags.cleanTeardown).toBe(true);
    expect(await residueOf(lab, results.stack)).toEqual([]);
  });

  test("a note written before the upgrade survives it (overlay hook + assertion)", () => {
    expect(rowNames(results, "upgrade")).toContain(
      "pass notes/upgrade.test.ts › a note written before the upgrade is still in notes.db",
    );
  });

  test("backup → wipe → restore brings the note back through the dump/load hooks", () => {
    expect(rowNames(results, "restore")).toContain(
      "pass notes/restore.test.ts › the note wiped after the backup is back in notes.db after the restore",
    );
    expect(results.backup?.entries.find((e) => e.service === "db")?.paths).toEqual(["db_data/dump"]);
  });

  test("the generated secret never appears in any output", () => {
    expect(results.flags.noSecretLeak).toBe(true);
    expect(run.log).toMatch(/created 1 secret\(s\) \(values never shown\)/);
  });
});
