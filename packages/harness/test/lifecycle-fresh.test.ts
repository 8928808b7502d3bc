import { beforeAll, describe, expect, test } from "@jest/globals";
import { freshStackOf } from "@taster/core";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { resultsTable } from "../src/table";
import { labRun, residueOf } from "./lab-run";

let lab: LabInfo;
let run: Awaited<ReturnType<typeof labRun>>;
let results: Results;

// hello-web PR #1 has releases: the main deployment installs the base (1.1.0+1.1) and upgrades it,
// so the head is never installed from scratch unless the fresh tier is asked for.
beforeAll(async () => {
  lab = await ensureLab();
  run = await labRun(lab, {
    source: recipeRepo(lab, "hello-web"),
    pr: 1,
    stages: ["install", "upgrade", "fresh"],
  });
  results = run.results;
}, 400_000);

describe("the fresh tier: the head installed from scratch on its own stack", () => {
  test("is green, on a stack of its own, with a row of its own after the tiers", () => {
    expect({ outcome: results.outcome, fresh: results.fresh?.status, reason: results.fresh?.reason }).toEqual(
      {
        outcome: "pass",
        fresh: "pass",
        reason: `the head installed from scratch on ${freshStackOf(results.stack)}`,
      },
    );
    expect(results.fresh?.tests.map((r) => `${r.status} ${r.name}`)).toEqual([
      `pass deploy the head ${results.versions.head} on its own stack and converge`,
      "pass the app answers HTTP like the proxy",
    ]);
    expect(resultsTable(results).split("\n").at(7)).toMatch(/^fresh\s+PASS/);
  });

  test("is counted apart: the main path still deployed once and upgraded once", () => {
    expect(results.flags).toEqual({
      deployCount: 1,
      upgradeRedeploys: 1,
      freshDeploys: 1,
      cleanTeardown: true,
      noSecretLeak: true,
    });
  });

  test("both stacks are gone: zero residue", async () => {
    expect(results.residue).toEqual([]);
    expect(await residueOf(lab, results.stack)).toEqual([]);
    expect(await residueOf(lab, freshStackOf(results.stack))).toEqual([]);
    expect(run.log).toMatch(/fresh: removing stack t[0-9a-f]+-fresh/);
  });
});
