import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "@jest/globals";
import { addPin, checkRepoLocal, removePin } from "../src/allowlist/repo-local";
import { addTriggerer, checkTriggerers, removeTriggerer } from "../src/allowlist/triggerers";

const run = promisify(execFile);
const TASTER = join(import.meta.dirname, "..", "..", "..", "taster");
const TREE_A = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const TREE_B = "9bc2d39ff4ba1e8dc1bb01d6d0dc9e5fcd6e1ec1";

const entry = (repo: string, extra = "") =>
  [
    `  - repo: "${repo}"`,
    "    pins:",
    `      - tree: ${TREE_A}`,
    "        approvedBy: alice",
    '        approvedAt: "2026-11-23"',
    "        why: reviewed",
    extra,
  ].join("\n");

describe("allowlist check", () => {
  it("accepts the shipped, empty allowlist", async () => {
    const text = await readFile(
      join(import.meta.dirname, "..", "..", "..", "allowlist", "repo-local.yml"),
      "utf8",
    );
    expect(checkRepoLocal(text)).toEqual({ value: { recipes: [] }, problems: [] });
  });

  it("rejects a duplicate entry at the line of the repeat", () => {
    const text = `recipes:\n${entry("coop-cloud/hello-web")}\n${entry("Coop-Cloud/hello-web")}\n`;
    expect(checkRepoLocal(text).problems).toEqual([
      {
        line: 9,
        message: "repository 'coop-cloud/hello-web' is listed more than once (first at line 2)",
      },
    ]);
  });

  it("says how to migrate an entry keyed by recipe name only (the old form)", () => {
    const text = `recipes:\n${entry("coop-cloud/hello-web").replace('repo: "coop-cloud/hello-web"', "name: hello-web")}\n`;
    expect(checkRepoLocal(text).problems).toEqual([
      {
        line: 2,
        message: "recipes.0.repo: required: the recipe's repository as owner/name, e.g. coop-cloud/hello-web",
      },
      {
        line: 2,
        message:
          "recipes.0.name: pins are keyed by repository now: replace 'name: hello-web' with 'repo: <owner>/hello-web' (e.g. coop-cloud/hello-web)",
      },
    ]);
  });

  it("rejects an unknown key, naming it and its line", () => {
    const text = `recipes:\n${entry("coop-cloud/hello-web", "        colour: blue")}\n`;
    expect(checkRepoLocal(text).problems).toEqual([
      { line: 8, message: "unknown key 'colour' in recipes.0.pins.0" },
    ]);
  });

  it("rejects '*' — it is not a wildcard", () => {
    const { problems, value } = checkRepoLocal(`recipes:\n${entry("*")}\n`);
    expect(value).toBeUndefined();
    expect(problems[0]).toEqual({
      line: 2,
      message: "recipes.0.repo: '*' is not a wildcard: list each repository",
    });
  });

  it("reports broken YAML with its line", () => {
    expect(checkRepoLocal("recipes:\n  - name: [unclosed\n").problems[0]?.line).toBe(3);
  });

  it("fails the CLI (exit 1) with file:line: reason", async () => {
    const dir = await mkdtemp(join(tmpdir(), "allowlist-"));
    const file = join(dir, "repo-local.yml");
    await writeFile(file, `recipes:\n${entry("*")}\n`);
    const failure = await run(TASTER, ["allowlist", "check", "--file", file]).catch((e) => e);
    expect(failure.code).toBe(1);
    expect(failure.stderr).toContain(`${file}:2: recipes.0.repo: '*' is not a wildcard`);
  });
});

describe("allowlist add/remove", () => {
  const base = "# reviewed by the admins\nrecipes: [] # default-deny\n";
  const pin = (tree: string) => ({ tree, approvedBy: "bob", approvedAt: "2026-11-23", why: "PR #3 overlay" });

  it("adds pins, keeps the file's comments, and the result passes check", () => {
    const once = addPin(base, "coop-cloud/hello-web", pin(TREE_A));
    const twice = addPin(once, "coop-cloud/hello-web", pin(TREE_B));
    expect(twice).toContain("# reviewed by the admins");
    const { value } = checkRepoLocal(twice);
    expect(value?.recipes).toEqual([{ repo: "coop-cloud/hello-web", pins: [pin(TREE_A), pin(TREE_B)] }]);
    expect(() => addPin(twice, "Coop-Cloud/hello-web", pin(TREE_A))).toThrow(/already has pin/);
  });

  it("removes one pin, then the entry with its last pin", () => {
    const text = addPin(addPin(base, "coop-cloud/notes", pin(TREE_A)), "coop-cloud/notes", pin(TREE_B));
    const one = removePin(text, "coop-cloud/notes", TREE_A);
    expect(checkRepoLocal(one).value?.recipes).toEqual([{ repo: "coop-cloud/notes", pins: [pin(TREE_B)] }]);
    expect(checkRepoLocal(removePin(one, "coop-cloud/notes", TREE_B)).value?.recipes).toEqual([]);
    expect(() => removePin(base, "coop-cloud/notes")).toThrow(/not on the allowlist/);
  });

  it("the CLI takes owner/name and says so for a bare recipe name (exit 2, no stack trace)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "allowlist-"));
    const file = join(dir, "repo-local.yml");
    await writeFile(file, base);
    const args = [
      "allowlist",
      "add",
      "hello-web",
      "--file",
      file,
      "--tree",
      TREE_A,
      "--by",
      "a",
      "--why",
      "w",
    ];
    const failure = await run(TASTER, args).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('taster: allowlist add "hello-web": not owner/name');
    expect(failure.stderr).not.toMatch(/\n\s+at /);
    await run(TASTER, ["allowlist", "add", "coop-cloud/hello-web", ...args.slice(3)]);
    expect(checkRepoLocal(await readFile(file, "utf8")).value?.recipes[0]?.repo).toBe("coop-cloud/hello-web");
  });
});

describe("allowlist triggerers", () => {
  it("adds and removes triggerers, keeping comments, and check accepts the result", () => {
    const base = "# who may trigger\ntriggerers: []\n";
    const added = addTriggerer(addTriggerer(base, "alice"), "bob", ["coop-cloud/hello-web"]);
    expect(added).toContain("# who may trigger");
    expect(checkTriggerers(added).value?.triggerers).toEqual([
      "alice",
      { login: "bob", repos: ["coop-cloud/hello-web"] },
    ]);
    expect(() => addTriggerer(added, "alice")).toThrow(/already/);
    expect(checkTriggerers(removeTriggerer(added, "alice")).value?.triggerers).toEqual([
      { login: "bob", repos: ["coop-cloud/hello-web"] },
    ]);
  });

  it("rejects a repeated login and an unknown key, each at its line", () => {
    const text = "triggerers:\n  - alice\n  - login: alice\n    repo: coop-cloud/notes\n";
    expect(checkTriggerers(text).problems).toEqual([
      { line: 3, message: "login 'alice' is listed more than once (first at line 2)" },
      { line: 4, message: "unknown key 'repo' in triggerers.1" },
    ]);
  });

  it("a forge-prefixed --repo (gitea:owner/name) is a usage error that says what to write, not a stack trace", async () => {
    const dir = await mkdtemp(join(tmpdir(), "triggerers-"));
    const file = join(dir, "triggerers.yml");
    await writeFile(file, "triggerers: []\n");
    const args = ["allowlist", "triggerers", "add", "alice", "--repo", "gitea:owner/name", "--file", file];
    const failure = await run(TASTER, args).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain(
      'taster: --repo "gitea:owner/name": write the repository as owner/name, without the forge prefix',
    );
    expect(failure.stderr).toContain("hint: e.g. --repo owner/name");
    expect(failure.stderr).not.toMatch(/\n\s+at /);
    expect(await readFile(file, "utf8")).toBe("triggerers: []\n");
  });

  it("accepts the shipped triggerers file", async () => {
    const text = await readFile(
      join(import.meta.dirname, "..", "..", "..", "allowlist", "triggerers.yml"),
      "utf8",
    );
    expect(checkTriggerers(text)).toEqual({ value: { triggerers: [] }, problems: [] });
  });
});
