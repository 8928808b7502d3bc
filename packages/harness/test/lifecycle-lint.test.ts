import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { resultsTable } from "../src/table";
import { labRun, residueOf } from "./lab-run";

let lab: LabInfo;
let run: Awaited<ReturnType<typeof labRun>>;
let results: Results;

// lint-hidden-schema: `start_period: ${START_PERIOD:-5m}` renders, but abra refuses the raw file.
beforeAll(async () => {
  lab = await ensureLab();
  run = await labRun(lab, { source: recipeRepo(lab, "lint-hidden-schema") });
  results = run.results;
}, 120_000);

describe("a schema error hidden behind interpolation", () => {
  test("the lint row is red and names the key, the file and abra's rule", () => {
    expect(results.lint?.status).toBe("fail");
    expect(results.lint?.reason).toBe("1 error(s)");
    const [finding] = results.lint?.findings ?? [];
    expect(finding).toMatchObject({ check: "compose-schema", severity: "error" });
    expect(finding?.message).toMatch(
      /^compose\.yml do not match the compose schema before interpolation: services\.app\.healthcheck\.start_period Does not match format 'duration'/,
    );
    expect(finding?.source).toMatch(/abra/);
  });

  test("the run fails before anything is deployed: every tier not run, no deployment, no residue", async () => {
    expect(results.outcome).toBe("fail");
    expect(results.level).toBe(0);
    expect(Object.values(results.tiers).map((t) => [t.status, t.reason])).toEqual(
      Array(5).fill(["skip", "not run: lint found 1 error(s)"]),
    );
    expect(results.flags.deployCount).toBe(0);
    expect(results.timings.deployMs).toBe(0);
    expect(await residueOf(lab, results.stack)).toEqual([]);
  });

  test("the CLI table shows the lint row first and lists the finding; run.log has it", () => {
    const table = resultsTable(results).split("\n");
    expect(table[1]).toMatch(/^lint\s+FAIL\s+-\s+\S+\s+1 error\(s\)$/);
    expect(table).toContain("lint:");
    expect(run.log).toMatch(/lint: ERROR compose-schema: compose\.yml do not match/);
    expect(run.onDisk.lint).toEqual(results.lint);
  });
});
