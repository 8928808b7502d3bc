import { expect } from "@jest/globals";
import type { LabInfo } from "@taster/lab";
import type { Results } from "../src/index";
import { residueOf } from "./lab-run";

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
