import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { labRun, residueOf } from "./lab-run";

let lab: LabInfo;
let headOnly: Results;
let upgraded: Results;
const TWO_LABELS = "backupbot.backup=true is set on 2 services (app, db)";

beforeAll(async () => {
  lab = await ensureLab();
  const source = recipeRepo(lab, "bb-split");
  // PR #1 adds backupbot.backup=true to db while app keeps it: backup-bot-two refuses the stack.
  headOnly = (await labRun(lab, { source, pr: 1, stages: ["install", "backup", "restore"] })).results;
  upgraded = (await labRun(lab, { source, pr: 1 })).results;
}, 400_000);

describe("bb-split PR #1: backupbot.backup=true on two services", () => {
  test("when the head is installed, it is a recipe error naming both services, before anything is deployed", async () => {
    expect(headOnly.outcome).toBe("fail");
    expect(headOnly.tiers.install.status).toBe("fail");
    expect(headOnly.tiers.install.reason).toContain(TWO_LABELS);
    expect(headOnly.tiers.install.tests[0]).toMatchObject({ file: "(taster)", name: "prepare the op" });
    expect(headOnly.flags.deployCount).toBe(0);
    expect(await residueOf(lab, headOnly.stack)).toEqual([]);
  });

  test("over the release (one label), the upgrade passes and the backup fails naming both services", async () => {
    expect(upgraded.outcome).toBe("fail");
    expect(upgraded.tiers.upgrade.status).toBe("pass");
    expect(upgraded.tiers.backup.status).toBe("fail");
    expect(upgraded.tiers.backup.reason).toContain(TWO_LABELS);
    expect(upgraded.tiers.restore).toMatchObject({ status: "skip", reason: "not run: backup failed" });
    expect(await residueOf(lab, upgraded.stack)).toEqual([]);
  });
});
