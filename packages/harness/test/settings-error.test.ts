import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { TasterError } from "@taster/core";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import { type Results, runRecipe } from "../src/index";

// Errors that are not the recipe's: Taster's own taster.yml, and the caller's options. Neither
// gets as far as a deployment, so these runs need the lab's sample repos only.
let lab: LabInfo;
let dir: string;

beforeAll(async () => {
  lab = await ensureLab();
  dir = await mkdtemp(join(tmpdir(), "taster-settings-error-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("an error in Taster's own taster.yml", () => {
  test("is a configuration error: outcome error, no level, the file and the key named", async () => {
    const recipesTestsDir = join(dir, "recipes-tests");
    await mkdir(join(recipesTestsDir, "hello-web"), { recursive: true });
    await writeFile(join(recipesTestsDir, "hello-web", "taster.yml"), "healthPth: /health\n");
    const outDir = join(dir, "out-config");
    const results = await runRecipe({
      source: recipeRepo(lab, "hello-web"),
      recipesTestsDir,
      outDir,
      workRoot: join(dir, "work"),
      hostUrl: lab.dockerHost,
    });
    expect(results.outcome).toBe("error");
    expect(results.errorKind).toBe("config");
    expect(results.level).toBe(0);
    expect(results.error).toBe(
      `${join(recipesTestsDir, "hello-web", "taster.yml")}: unknown key "healthPth"`,
    );
    expect(results.flags.deployCount).toBe(0);
    const onDisk = JSON.parse(await readFile(join(outDir, "results.json"), "utf8")) as Results;
    expect(onDisk.errorKind).toBe("config");
  });
});

describe("a usage error", () => {
  test("throws, and leaves no results.json or run.log behind", async () => {
    const outDir = join(dir, "out-usage");
    const error = await runRecipe({
      source: recipeRepo(lab, "hello-web"),
      pr: 1,
      ref: "main",
      outDir,
      workRoot: join(dir, "work"),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TasterError);
    expect((error as TasterError).kind).toBe("usage");
    expect((error as TasterError).message).toBe("give --pr or --ref, not both");
    expect(await readdir(outDir).catch(() => [])).toEqual([]);
  });
});
