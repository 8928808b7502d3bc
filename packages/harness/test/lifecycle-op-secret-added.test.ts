import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { labRun, residueOf, rowNames } from "./lab-run";

// op-secret-added: release 1.0.0+1.0 has one secret; its PRs add API_URL (used in compose without
// a default) and a secret api_key. PR #1 says nothing to operators, PR #2 has release/1.1.0+1.0.
let lab: LabInfo;
let silent: Results;
let noted: Awaited<ReturnType<typeof labRun>>;

beforeAll(async () => {
  lab = await ensureLab();
  const source = recipeRepo(lab, "op-secret-added");
  silent = (await labRun(lab, { source, pr: 1 })).results;
  noted = await labRun(lab, { source, pr: 2 });
}, 600_000);

const statuses = (results: Results) =>
  Object.fromEntries(Object.entries(results.tiers).map(([t, r]) => [t, r.status]));

describe("a head that needs what an existing install's .env lacks", () => {
  test("without a release note: the upgrade is red before deploying, naming each need and both fixes", async () => {
    expect(statuses(silent)).toMatchObject({ install: "pass", upgrade: "fail" });
    const reason = silent.tiers.upgrade.reason ?? "";
    expect(reason).toMatch(/\.env \(from 1\.0\.0\+1\.0's \.env\.sample\) does not have/);
    expect(reason).toMatch(/variable API_URL \(used in compose\.yml without a default\)/);
    expect(reason).toMatch(/secret api_key \(\S+_api_key_ was never generated\)/);
    expect(reason).toMatch(/give each a default in the compose file/);
    expect(reason).toMatch(/release note release\/1\.1\.0\+1\.0/);
    // Nothing was redeployed: the existing install was left as it was, then torn down.
    expect(silent.flags).toMatchObject({ deployCount: 1, upgradeRedeploys: 0, cleanTeardown: true });
    expect(await residueOf(lab, silent.stack)).toEqual([]);
  });

  test("with a release note naming them: Taster adds them as the note says, the upgrade is green and says so", () => {
    const results = noted.results;
    const failures = Object.values(results.tiers).flatMap((t) =>
      t.tests.filter((r) => r.status === "fail").map((r) => `${r.name}: ${r.failure}`),
    );
    expect({ statuses: statuses(results), failures }).toEqual({
      statuses: { install: "pass", upgrade: "pass", backup: "na", restore: "na", custom: "na" },
      failures: [],
    });
    expect(results.manifest?.appEnv).toEqual({
      from: ".env (from 1.0.0+1.0's .env.sample)",
      added: [
        { key: "API_URL", from: "release/1.1.0+1.0:3" },
        { key: "SECRET_API_KEY_VERSION", from: "release/1.1.0+1.0:3" },
      ],
      secrets: [
        { name: "admin_password", source: "generated" },
        { name: "api_key", source: "generated" },
      ],
    });
    const op = results.tiers.upgrade.tests[0]?.name ?? "";
    expect(op).toMatch(/release note: added API_URL to the app env as release\/1\.1\.0\+1\.0:3 says/);
    expect(op).toMatch(/created secret api_key as release\/1\.1\.0\+1\.0:4 says/);
    expect(noted.log).toMatch(/app-env: added SECRET_API_KEY_VERSION to the app env/);
    expect(results.flags).toEqual({
      deployCount: 1,
      upgradeRedeploys: 1,
      cleanTeardown: true,
      noSecretLeak: true,
    });
  });

  test("the generic upgrade checks what abra would: chaos-version is the head, the head's declared version runs", () => {
    expect(rowNames(noted.results, "upgrade")).toEqual(
      expect.arrayContaining([
        "pass _generic/upgrade.test.ts › upgrade the PR head is what runs: chaos-version equals the head",
        "pass _generic/upgrade.test.ts › upgrade the version label that runs is the one the head's compose files declare",
        "pass _generic/upgrade.test.ts › upgrade the update did not roll back",
      ]),
    );
  });
});
