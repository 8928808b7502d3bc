import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { labRun, residueOf, rowNames } from "./lab-run";

let lab: LabInfo;
let run: Awaited<ReturnType<typeof labRun>>;
let results: Results;

beforeAll(async () => {
  lab = await ensureLab();
  // The release 0.1.0+1.0 (main): backupbot.backup=true on the volume-less app, hooks on db.
  run = await labRun(lab, { source: recipeRepo(lab, "bb-split") });
  results = run.results;
}, 300_000);

describe("bb-split: backup label on a volume-less app, dump/load hooks on db (backup-bot-two's spec)", () => {
  test("is green through backup and restore, with one deployment and zero residue", async () => {
    const statuses = Object.fromEntries(Object.entries(results.tiers).map(([t, r]) => [t, r.status]));
    const failures = Object.values(results.tiers).flatMap((t) =>
      t.tests.filter((r) => r.status === "fail").map((r) => `${r.name}: ${r.failure}`),
    );
    expect({ outcome: results.outcome, statuses, error: results.error, failures }).toEqual({
      outcome: "pass",
      statuses: { install: "pass", upgrade: "na", backup: "pass", restore: "pass", custom: "na" },
      error: undefined,
      failures: [],
    });
    expect(results.manifest?.backupCapable).toBe(true);
    expect(results.flags.deployCount).toBe(1);
    expect(await residueOf(lab, results.stack)).toEqual([]);
  });

  test("backs up the stack's volumes, not the labelled service's: db_data limited to dump/, scratch excluded", () => {
    expect(results.backup?.entries).toEqual([{ service: "db", paths: ["db_data/dump"] }]);
  });

  test("the db's pre-hook ran in its container: the dump and Taster's marker are what the backup holds", () => {
    expect(run.log).toMatch(/1 path\(s\): db_data\/dump \(2 file\(s\), [0-9a-f]{12}\)/);
  });

  test("the app's data comes back through db's restore post-hook (overlay: row written before, wiped after the backup)", () => {
    expect(rowNames(results, "restore")).toContain(
      "pass bb-split/restore.test.ts › the row wiped after the backup is back in data.db (db's restore post-hook loaded the dump)",
    );
  });

  test("the round trip is proven by checksums: changed after the backup, back after the restore", () => {
    expect(run.log).toMatch(
      /checksums: 1 path\(s\) backed up, changed after the backup, and back after the restore: db_data\/dump \(2 file\(s\), [0-9a-f]{12}\)/,
    );
    expect(rowNames(results, "restore")).toEqual(
      expect.arrayContaining([
        "pass _generic/restore.test.ts › restore every backed-up path was changed after the backup and has its backed-up checksum back",
        "pass _generic/restore.test.ts › restore the restore put every backed-up file back, identical to the backup",
        "pass _generic/restore.test.ts › restore every healthcheck reports healthy",
        "pass _generic/restore.test.ts › restore the app still answers HTTP",
      ]),
    );
  });
});
