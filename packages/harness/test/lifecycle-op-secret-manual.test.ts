import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import { type Results, toolPaths } from "../src/index";
import { labRun, rowNames } from "./lab-run";

// op-secret-manual: smtp_password is `generate=false` (an operator inserts it), session_key is
// `length=48 charset=default,special`. Run once with no test value, once with one in taster.yml.
let lab: LabInfo;
let dir: string;
let generated: Awaited<ReturnType<typeof labRun>>;
let given: Awaited<ReturnType<typeof labRun>>;
const value = `smtp-${randomBytes(6).toString("hex")}`;

beforeAll(async () => {
  lab = await ensureLab();
  dir = await mkdtemp(join(tmpdir(), "taster-op-manual-"));
  const recipesTests = join(dir, "recipes-tests");
  await cp(join(toolPaths.recipesTests, "_generic"), join(recipesTests, "_generic"), { recursive: true });
  await mkdir(join(recipesTests, "op-secret-manual", "custom"), { recursive: true });
  await writeFile(
    join(recipesTests, "op-secret-manual", "taster.yml"),
    `secrets:\n  smtp_password: "${value}"\n`,
  );
  // The overlay compares a digest: the value itself would be masked in any output.
  const digest = createHash("sha256").update(value).digest("hex");
  await writeFile(
    join(recipesTests, "op-secret-manual", "custom", "smtp.test.ts"),
    [
      'import { expect, test } from "@jest/globals";',
      'import { app } from "@taster/testkit";',
      'test("the app has the SMTP password taster.yml gave", async () => {',
      '  const out = await app.exec("app", ["sha256sum", "/run/secrets/smtp_password"]);',
      `  expect(out.stdout.split(" ")[0]).toBe("${digest}");`,
      "});",
      "",
    ].join("\n"),
  );
  execFileSync("chmod", ["-R", "o+rX", dir]);
  const source = recipeRepo(lab, "op-secret-manual");
  generated = await labRun(lab, { source, pr: 1 });
  given = await labRun(lab, { source, pr: 1, recipesTestsDir: recipesTests });
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const statuses = (results: Results) =>
  Object.fromEntries(Object.entries(results.tiers).map(([t, r]) => [t, r.status]));

describe("a generate=false secret", () => {
  test("without a test value: Taster generates one, and the manifest and log say so", () => {
    expect(statuses(generated.results)).toMatchObject({ install: "pass", upgrade: "pass" });
    expect(generated.results.manifest?.appEnv?.secrets).toEqual([
      { name: "session_key", source: "generated" },
      { name: "smtp_password", source: "generated (generate=false, no test value in taster.yml)" },
    ]);
    expect(generated.log).toMatch(
      /secrets: smtp_password: generated \(generate=false, no test value in taster\.yml\)/,
    );
  });

  test("with a test value in taster.yml: that value is what the app gets, and it is never shown", () => {
    expect(statuses(given.results)).toMatchObject({ install: "pass", upgrade: "pass", custom: "pass" });
    expect(given.results.manifest?.appEnv?.secrets).toEqual([
      { name: "session_key", source: "generated" },
      { name: "smtp_password", source: "taster.yml" },
    ]);
    expect(rowNames(given.results, "custom")).toContain(
      "pass op-secret-manual/custom/smtp.test.ts › the app has the SMTP password taster.yml gave",
    );
    expect(given.log).not.toContain(value);
    expect(JSON.stringify(given.results)).not.toContain(value);
    expect(given.results.flags.noSecretLeak).toBe(true);
  });
});
