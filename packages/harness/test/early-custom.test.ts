import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import { toolPaths } from "../src/index";
import { labRun, residueOf, rowNames } from "./lab-run";

// The custom tier's jest starts while restore's assertions run (src/run/early.ts). Its tests must
// see the custom tier and the deployment after restore; when restore fails, the custom tier is
// skipped as before and the jest started for it leaves no trace in the log.
let lab: LabInfo;
let dir: string;
let passing: Awaited<ReturnType<typeof labRun>>;
let failing: Awaited<ReturnType<typeof labRun>>;

async function overlay(name: string, files: Record<string, string>): Promise<string> {
  const recipesTests = join(dir, name);
  await cp(join(toolPaths.recipesTests, "_generic"), join(recipesTests, "_generic"), { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    await mkdir(join(recipesTests, "hello-web", file, ".."), { recursive: true });
    await writeFile(join(recipesTests, "hello-web", file), text);
  }
  return recipesTests;
}

const customTest = [
  'import { expect, test } from "@jest/globals";',
  'import { app } from "@taster/testkit";',
  'test("runs as the custom tier, against the upgraded and restored app", async () => {',
  '  expect(app.context.tier).toBe("custom");',
  '  expect((await app.exec("app", ["cat", "/etc/web-version"])).stdout.trim()).toBe("1.1");',
  '  const marker = await app.state.get<{ path: string; value: string }>("taster.backupMarker");',
  '  const read = await app.exec("app", ["cat", marker?.path ?? "/missing"]);',
  "  expect(read.stdout).toBe(marker?.value);",
  "});",
  "",
].join("\n");

beforeAll(async () => {
  lab = await ensureLab();
  dir = await mkdtemp(join(tmpdir(), "taster-early-custom-"));
  const good = await overlay("good", { "custom/context.test.ts": customTest });
  const bad = await overlay("bad", {
    "custom/context.test.ts": customTest,
    "restore.test.ts": [
      'import { test } from "@jest/globals";',
      'test("fails on purpose", () => {',
      '  throw new Error("this overlay fails restore on purpose");',
      "});",
      "",
    ].join("\n"),
  });
  execFileSync("chmod", ["-R", "o+rX", dir]);
  const source = recipeRepo(lab, "hello-web");
  passing = await labRun(lab, { source, pr: 1, recipesTestsDir: good });
  failing = await labRun(lab, { source, pr: 1, recipesTestsDir: bad });
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The run.log lines of one tier (`custom › …` events and `custom | …` details). */
const linesOf = (log: string, tier: string) =>
  log.split("\n").filter((line) => new RegExp(`^\\[\\+[\\d.]+s\\] ${tier} [›|]`).test(line));

describe("the custom tier's jest, started during restore", () => {
  test("its tests run as the custom tier and see the app after restore", () => {
    expect(passing.results.tiers.custom.status).toBe("pass");
    expect(rowNames(passing.results, "custom")).toEqual([
      "pass (taster) › nothing to do: custom tests run against the live deployment",
      "pass hello-web/custom/context.test.ts › runs as the custom tier, against the upgraded and restored app",
    ]);
    // The custom tier's lines come after restore's verdict, in the order they always had.
    const custom = linesOf(passing.log, "custom").map((line) => line.replace(/^\S+ /, ""));
    expect(custom.slice(0, 3)).toEqual([
      "custom › op: nothing to do: custom tests run against the live deployment",
      "custom › op: done in 0.0s",
      "custom › assert: 1 file(s), started alongside the op",
    ]);
    const log = passing.log.split("\n");
    expect(log.findIndex((l) => l.includes("custom ›"))).toBeGreaterThan(
      log.findIndex((l) => l.includes("restore › tier: PASS")),
    );
  });

  test("when restore fails, custom is skipped and its jest leaves nothing in the log", async () => {
    const { results, log } = failing;
    expect(results.tiers.restore.status).toBe("fail");
    expect(results.tiers.custom).toMatchObject({
      status: "skip",
      reason: "not run: restore failed",
      tests: [],
    });
    expect(linesOf(log, "custom").map((line) => line.replace(/^\S+ /, ""))).toEqual([
      "custom › tier: SKIP — not run: restore failed",
    ]);
    expect(results.flags.cleanTeardown).toBe(true);
    expect(await residueOf(lab, results.stack)).toEqual([]);
  });
});
