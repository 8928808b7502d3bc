import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { labRun, residueOf, rowNames } from "./lab-run";

let lab: LabInfo;
let run: Awaited<ReturnType<typeof labRun>>;
let results: Results;

beforeAll(async () => {
  lab = await ensureLab();
  run = await labRun(lab, { source: recipeRepo(lab, "hello-web"), pr: 1 });
  results = run.results;
}, 300_000);

describe("hello-web PR #1: one deployment, all tiers", () => {
  test("is green on every tier; custom is N/A (neutral), so it reaches L4", () => {
    const statuses = Object.fromEntries(Object.entries(results.tiers).map(([t, r]) => [t, r.status]));
    const failures = Object.values(results.tiers).flatMap((t) =>
      t.tests.filter((r) => r.status !== "pass").map((r) => `${r.name}: ${r.failure}`),
    );
    expect({ outcome: results.outcome, statuses, error: results.error, failures }).toEqual({
      outcome: "pass",
      statuses: { install: "pass", upgrade: "pass", backup: "pass", restore: "pass", custom: "pass" },
      error: undefined,
      failures: [],
    });
    // L4 only because hello-web has custom tests (recipes-tests/hello-web/custom) and they passed.
    expect(results.level).toBe(4);
    expect(rowNames(results, "custom")).toContain(
      "pass hello-web/custom/serving.test.ts › serves the page of the image version the head pins",
    );
  });

  test("deployed once, upgraded in place once, and left zero residue", async () => {
    expect(results.flags).toEqual({
      deployCount: 1,
      upgradeRedeploys: 1,
      cleanTeardown: true,
      noSecretLeak: true,
    });
    expect(await residueOf(lab, results.stack)).toEqual([]);
  });

  test("upgraded from the newest older release to the PR head", () => {
    expect(results.versions.base).toBe("1.1.0+1.1");
    expect(results.versions.head).toMatch(/^1\.1\.0\+1\.1\+[0-9a-f]{8}$/);
    expect(rowNames(results, "upgrade")).toContain(
      "pass _generic/upgrade.test.ts › upgrade the PR head is what runs: chaos-version equals the head",
    );
  });

  test("the backup checksum is recorded and the marker came back after restore", () => {
    expect(results.backup?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rowNames(results, "restore")).toEqual(
      expect.arrayContaining([
        "pass _generic/restore.test.ts › restore the restore put every backed-up file back, identical to the backup",
        "pass _generic/restore.test.ts › restore the marker seeded before backup and changed after it is back",
      ]),
    );
    expect(run.log).toMatch(/marker seeded in app:\/var\/www\/\.taster-marker/);
  });

  test("results.json on disk validates and equals what the run returned; run.log has the progress", () => {
    expect(run.onDisk).toEqual(results);
    expect(run.log).toMatch(/install › op: deploy 1\.1\.0\+1\.1 \(upgrade base\)/);
    expect(run.log).toMatch(/teardown: zero residue/);
  });
});
