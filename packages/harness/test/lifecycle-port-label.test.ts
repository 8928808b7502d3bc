import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { labRun, residueOf, rowNames } from "./lab-run";

let lab: LabInfo;
let run: Awaited<ReturnType<typeof labRun>>;
let results: Results;

// lint-port-label serves on :8080, declared only in its traefik label, and has no taster.yml.
beforeAll(async () => {
  lab = await ensureLab();
  run = await labRun(lab, { source: recipeRepo(lab, "lint-port-label"), stages: ["install"] });
  results = run.results;
}, 240_000);

describe("a recipe whose port is only in its traefik label, with zero config", () => {
  test("is green at install: the floor requested the label's port with the router's Host", () => {
    expect({ outcome: results.outcome, install: results.tiers.install.status, error: results.error }).toEqual(
      {
        outcome: "pass",
        install: "pass",
        error: undefined,
      },
    );
    expect(rowNames(results, "install")).toContain(
      "pass _generic/install.test.ts › install the app answers HTTP from inside the stack network with an acceptable status",
    );
  });

  test("the manifest says where the service, port and Host came from", () => {
    expect(results.manifest?.serving).toBe(
      `service app (the service with traefik.enable=true); port 8080 from traefik label on app; Host ${results.domain} from traefik router rule on app`,
    );
    expect(run.log).toMatch(/manifest: serving: service app .*port 8080 from traefik label on app/);
  });

  test("deployed once and left zero residue", async () => {
    expect(results.flags.deployCount).toBe(1);
    expect(await residueOf(lab, results.stack)).toEqual([]);
  });
});
