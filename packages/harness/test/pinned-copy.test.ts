import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { GateDecision } from "../src/allowlist";
import { copyPinnedTree, materializeGate } from "../src/pinned-copy";

// A recipe repo whose tests/taster is approved; each hostile variant is a commit of its own.
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

let dir: string;
let repo: string;

const treeOf = (ref = "HEAD") => git(repo, "rev-parse", `${ref}:tests/taster`);
const approved = (tree: string): GateDecision => ({
  allowed: true,
  why: "approved by alice",
  treeHash: tree,
});

async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true }))
    if (!entry.isDirectory()) out.push(relative(root, join(entry.parentPath, entry.name)));
  return out.sort();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "taster-pinned-"));
  repo = join(dir, "recipe");
  await mkdir(join(repo, "tests/taster/custom"), { recursive: true });
  await mkdir(join(repo, "lib"), { recursive: true });
  git(dir, "init", "-q", repo);
  await writeFile(join(repo, "compose.yml"), "services: {}\n");
  await writeFile(join(repo, "lib/evil.ts"), "// beside tests/taster: never approved\n");
  await writeFile(join(repo, ".swcrc"), "{}\n");
  await writeFile(join(repo, "tests/taster/install.test.ts"), "// v1\n");
  await writeFile(join(repo, "tests/taster/custom/smoke.test.ts"), "// custom\n");
  await writeFile(join(repo, "tests/taster/run.sh"), "#!/bin/sh\n", { mode: 0o755 });
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "v1");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the pinned copy", () => {
  test("holds exactly the pinned tree: its files, its content, nothing beside tests/taster", async () => {
    const tree = treeOf();
    // The checkout moves on after the pin: a new file beside, an edit inside, neither committed.
    await writeFile(join(repo, "tests/taster/install.test.ts"), "// edited in the checkout, not pinned\n");
    await writeFile(join(repo, "tests/taster/extra.test.ts"), "// not in the pinned tree\n");
    const dest = join(dir, "copy-exact");
    const copy = await copyPinnedTree(repo, tree, dest);
    expect(copy).toBe(join(dest, "tests/taster"));
    expect(await filesUnder(dest)).toEqual([
      "tests/taster/custom/smoke.test.ts",
      "tests/taster/install.test.ts",
      "tests/taster/run.sh",
    ]);
    expect(await readFile(join(copy, "install.test.ts"), "utf8")).toBe("// v1\n");
    // Read-only for everyone but Taster.
    expect((await stat(join(copy, "run.sh"))).mode & 0o777).toBe(0o644);
    git(repo, "checkout", "--", ".");
    await rm(join(repo, "tests/taster/extra.test.ts"));
  });

  test("a symlink in the pinned tree: repo-local code is not run, and the reason names the path", async () => {
    await symlink("../../lib/evil.ts", join(repo, "tests/taster/helper.ts"));
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "a symlink out of tests/taster");
    const dest = join(dir, "copy-symlink");
    const gate = await materializeGate(approved(treeOf()), repo, dest);
    expect(gate.allowed).toBe(false);
    expect(gate.pinnedDir).toBeUndefined();
    expect(gate.why).toMatch(
      /tests\/taster\/helper\.ts is a symlink: repo-local code may only hold regular files/,
    );
    // Nothing was copied for a refused tree.
    await expect(stat(dest)).rejects.toThrow(/ENOENT/);
    git(repo, "rm", "-q", "tests/taster/helper.ts");
    git(repo, "commit", "-qm", "no symlink");
  });

  test("a submodule (gitlink) in the pinned tree is refused by name too", async () => {
    const head = git(repo, "rev-parse", "HEAD");
    git(repo, "update-index", "--add", "--cacheinfo", `160000,${head},tests/taster/vendor`);
    git(repo, "commit", "-qm", "a gitlink");
    const gate = await materializeGate(approved(treeOf()), repo, join(dir, "copy-gitlink"));
    expect(gate.allowed).toBe(false);
    expect(gate.why).toMatch(/tests\/taster\/vendor is a submodule/);
  });

  test("tests/taster itself a symlink: refused, saying it is not a directory", async () => {
    const other = join(dir, "linked");
    git(dir, "init", "-q", other);
    await mkdir(join(other, "elsewhere"));
    await writeFile(join(other, "elsewhere/install.test.ts"), "// not under tests/taster\n");
    await mkdir(join(other, "tests"));
    await symlink("../elsewhere", join(other, "tests/taster"));
    git(other, "add", ".");
    git(other, "commit", "-qm", "tests/taster is a symlink");
    const tree = git(other, "rev-parse", "HEAD:tests/taster");
    const gate = await materializeGate(approved(tree), other, join(dir, "copy-linked"));
    expect(gate.allowed).toBe(false);
    expect(gate.why).toMatch(/tests\/taster is not a directory \(a blob: a symlink\?\)/);
  });

  test("a decision that is not allowed is passed on untouched (nothing copied)", async () => {
    const denied: GateDecision = { allowed: false, why: "not listed", treeHash: treeOf() };
    expect(await materializeGate(denied, repo, join(dir, "copy-denied"))).toBe(denied);
  });
});
