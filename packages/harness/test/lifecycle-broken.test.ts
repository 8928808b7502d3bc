import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { labRun, residueOf } from "./lab-run";

let lab: LabInfo;
let results: Results;

beforeAll(async () => {
  lab = await ensureLab();
  results = (await labRun(lab, { source: recipeRepo(lab, "broken"), pr: 3 })).results;
}, 300_000);

describe("broken PR #3: a healthcheck that never passes", () => {
  test("fails at level 0 and the failing healthcheck is named in the results", () => {
    expect(results.outcome).toBe("fail");
    expect(results.level).toBe(0);
    expect(results.tiers.install.status).toBe("fail");
    expect(results.tiers.install.reason).toMatch(/healthcheck/);
    expect(results.tiers.install.tests[0]).toMatchObject({ file: "(taster)", status: "fail" });
  });

  test("later tiers are reported as not run, never as passed", () => {
    for (const tier of ["upgrade", "backup", "restore", "custom"] as const) {
      expect(results.tiers[tier]).toMatchObject({ status: "skip", reason: "not run: install failed" });
    }
  });

  test("still tears down to zero residue", async () => {
    expect(results.flags.cleanTeardown).toBe(true);
    expect(await residueOf(lab, results.stack)).toEqual([]);
  });
});
