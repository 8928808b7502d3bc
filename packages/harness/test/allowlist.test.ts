import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { gateRepoLocal, loadAllowlist, parseAllowlist } from "../src/allowlist";
import { discoverCustomization } from "../src/discovery";
import { materializeGate } from "../src/pinned-copy";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

let dir: string;
let recipesTests: string;
let firstTree: string;
let secondTree: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "taster-allow-"));
  const repo = join(dir, "recipe");
  await mkdir(join(repo, "tests/taster/custom"), { recursive: true });
  git(dir, "init", "-q", repo);
  await writeFile(join(repo, "compose.yml"), "services: {}\n");
  await writeFile(join(repo, "tests/taster/install.test.ts"), "// v1\n");
  await writeFile(join(repo, "tests/taster/custom/smoke.test.ts"), "// custom\n");
  await writeFile(join(repo, "tests/taster/ops.ts"), "export {};\n");
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "v1");
  firstTree = git(repo, "rev-parse", "HEAD:tests/taster");
  recipesTests = join(dir, "recipes-tests");
  await mkdir(join(recipesTests, "_generic"), { recursive: true });
  await mkdir(join(recipesTests, "demo"), { recursive: true });
  for (const t of ["install", "upgrade", "backup", "restore"]) {
    await writeFile(join(recipesTests, "_generic", `${t}.test.ts`), "");
  }
  await writeFile(join(recipesTests, "demo", "upgrade.test.ts"), "");
  // A later commit changes the repo-local code: its tree hash moves.
  const changed = join(dir, "changed");
  git(dir, "clone", "-q", repo, changed);
  await writeFile(join(changed, "tests/taster/install.test.ts"), "// v2: new code from a PR\n");
  git(changed, "commit", "-qam", "v2");
  secondTree = git(changed, "rev-parse", "HEAD:tests/taster");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const REPO = "coop-cloud/demo";

const pinned = (tree: string, repo = REPO) =>
  parseAllowlist(
    `recipes:\n  - repo: ${repo}\n    pins:\n      - tree: ${tree}\n        approvedBy: alice\n        approvedAt: "2026-11-23"\n        why: reviewed\n`,
  );

describe("allowlist file", () => {
  test("the shipped allowlist is valid and empty (default-deny)", async () => {
    const shipped = await loadAllowlist(join(import.meta.dirname, "../../../allowlist/repo-local.yml"));
    expect(shipped.recipes).toEqual([]);
  });

  test("'*' is rejected, not treated as a wildcard", () => {
    for (const repo of ['"*"', '"coop-cloud/*"'])
      expect(() =>
        parseAllowlist(
          `recipes:\n  - repo: ${repo}\n    pins: [{tree: ${"a".repeat(40)}, approvedBy: a, approvedAt: x, why: y}]\n`,
        ),
      ).toThrow(/'\*' is not a wildcard/);
  });

  test("an entry keyed by recipe name only (the old form) says how to migrate", () => {
    const old = `recipes:\n  - name: hello-web\n    pins: [{tree: ${"a".repeat(40)}, approvedBy: a, approvedAt: x, why: y}]\n`;
    expect(() => parseAllowlist(old, "f.yml")).toThrow(
      /f\.yml: .*recipes\.0\.name: pins are keyed by repository now: replace 'name: hello-web' with 'repo: <owner>\/hello-web'/,
    );
  });

  test("a repository that is not owner/name is named", () => {
    const entry = (repo: string) =>
      `recipes:\n  - repo: ${repo}\n    pins: [{tree: ${"a".repeat(40)}, approvedBy: a, approvedAt: x, why: y}]\n`;
    expect(() => parseAllowlist(entry("hello-web"))).toThrow(/recipes\.0\.repo: not owner\/name/);
    expect(() => parseAllowlist(entry("gitea:coop-cloud/hello-web"))).toThrow(
      /recipes\.0\.repo: not owner\/name/,
    );
  });

  test("an unknown key and a missing pin are named", () => {
    expect(() => parseAllowlist("recipes: []\nallowAll: true\n", "f.yml")).toThrow(/f\.yml.*allowAll/);
    expect(() => parseAllowlist("recipes:\n  - repo: a/demo\n    pins: []\n")).toThrow(/recipes\.0\.pins/);
  });
});

describe("repo-local gate", () => {
  test("not allowlisted: denied, and the manifest says so", async () => {
    const gate = await gateRepoLocal(parseAllowlist("recipes: []"), REPO, join(dir, "recipe"));
    expect(gate).toMatchObject({ allowed: false, treeHash: firstTree });
    expect(gate.why).toMatch(/not on the repo-local allowlist/);
    const found = await discoverCustomization({
      recipesTestsDir: recipesTests,
      recipe: "demo",
      checkoutDir: join(dir, "recipe"),
      gate,
    });
    expect(found.assertions.install).toEqual([join(recipesTests, "_generic/install.test.ts")]);
    expect(found.assertions.custom).toEqual([]);
    expect(found.hooks).toEqual([]);
    const denied = found.entries.filter((e) => !e.allowed).map((e) => e.path.replace(`${dir}/`, ""));
    expect(denied.sort()).toEqual([
      "recipe/tests/taster/custom/smoke.test.ts",
      "recipe/tests/taster/install.test.ts",
      "recipe/tests/taster/ops.ts",
    ]);
  });

  test("allowlisted with the pin of this content: runs from the pinned copy, generic then overlay then repo-local", async () => {
    const approved = await gateRepoLocal(pinned(firstTree), REPO, join(dir, "recipe"));
    expect(approved.allowed).toBe(true);
    expect(approved.why).toMatch(/approved for coop-cloud\/demo by alice/);
    const gate = await materializeGate(approved, join(dir, "recipe"), join(dir, "pinned"));
    expect(gate.pinnedDir).toBe(join(dir, "pinned/tests/taster"));
    const found = await discoverCustomization({
      recipesTestsDir: recipesTests,
      recipe: "demo",
      checkoutDir: join(dir, "recipe"),
      gate,
    });
    expect(found.assertions.install).toEqual([
      join(recipesTests, "_generic/install.test.ts"),
      join(dir, "pinned/tests/taster/install.test.ts"),
    ]);
    expect(found.assertions.upgrade).toEqual([
      join(recipesTests, "_generic/upgrade.test.ts"),
      join(recipesTests, "demo/upgrade.test.ts"),
    ]);
    expect(found.assertions.custom).toEqual([join(dir, "pinned/tests/taster/custom/smoke.test.ts")]);
    expect(found.hooks).toEqual([join(dir, "pinned/tests/taster/ops.ts")]);
  });

  test("a pin for the same recipe name under another owner does not approve this repository", async () => {
    const gate = await gateRepoLocal(pinned(firstTree, "other/demo"), REPO, join(dir, "recipe"));
    expect(gate.allowed).toBe(false);
    expect(gate.why).toMatch(/coop-cloud\/demo is not on the repo-local allowlist/);
    expect(
      (await gateRepoLocal(pinned(firstTree, "Coop-Cloud/Demo"), REPO, join(dir, "recipe"))).allowed,
    ).toBe(true);
  });

  test("a run that does not know its repository approves nothing, and says how to fix it", async () => {
    const gate = await gateRepoLocal(pinned(firstTree), undefined, join(dir, "recipe"));
    expect(gate.allowed).toBe(false);
    expect(gate.why).toMatch(/does not know the recipe's repository.*--repo owner\/name/);
  });

  test("a PR that changed the code does not run on the old pin", async () => {
    const gate = await gateRepoLocal(pinned(firstTree), REPO, join(dir, "changed"));
    expect(gate.allowed).toBe(false);
    expect(gate.treeHash).toBe(secondTree);
    expect(gate.why).toMatch(/is not an approved pin/);
  });

  test("a recipe without tests/taster has nothing to gate", async () => {
    const gate = await gateRepoLocal(pinned(firstTree), REPO, recipesTests);
    expect(gate).toMatchObject({ allowed: false, treeHash: null });
  });
});
