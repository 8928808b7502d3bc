import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { labRun, residueOf, rowNames } from "./lab-run";

// Approved repo-local code whose pinned tree stays the same while what would run changes: files
// beside tests/taster, configuration at the recipe's root, an import out of the tree, a symlink.
// Each PR of hello-web ("hello-pinned") is approved by a pin of exactly its tests/taster tree.
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

const REPO = "coop-cloud/hello-pinned";

let lab: LabInfo;
let dir: string;
const runs: Record<string, Results> = {};
const logs: Record<string, string> = {};

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Lines of JS that leave `marker` when they run (the sandbox uid may write in `dir`). */
const leaves = (marker: string) =>
  `import { writeFileSync as leave } from "node:fs";\nleave(${JSON.stringify(marker)}, "ran");\n`;

/** Commits `files` (path → content, or { symlink }) on top of hello-web; returns sha and pinned tree. */
async function variant(name: string, files: Record<string, string | { symlink: string }>) {
  const work = join(dir, name, "work");
  git(dir, "clone", "-q", recipeRepo(lab, "hello-web"), work);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(work, path, ".."), { recursive: true });
    if (typeof content === "string") await writeFile(join(work, path), content);
    else await symlink(content.symlink, join(work, path));
  }
  git(work, "add", ".");
  git(work, "commit", "-qm", name);
  const bare = join(dir, name, "hello-pinned.git");
  git(dir, "clone", "-q", "--bare", work, bare);
  return {
    source: bare,
    sha: git(work, "rev-parse", "HEAD"),
    tree: git(work, "rev-parse", "HEAD:tests/taster"),
  };
}

async function approvedRun(name: string, files: Record<string, string | { symlink: string }>) {
  const { source, sha, tree } = await variant(name, files);
  const allowlistPath = join(dir, name, "allowlist.yml");
  await writeFile(
    allowlistPath,
    `recipes:\n  - repo: ${REPO}\n    pins:\n      - tree: ${tree}\n        approvedBy: test\n        approvedAt: "2026-11-23"\n        why: reviewed fixture\n`,
  );
  const done = await labRun(lab, {
    source,
    repo: REPO,
    ref: "HEAD",
    sha,
    stages: ["install"],
    allowlistPath,
  });
  runs[name] = done.results;
  logs[name] = done.log;
}

const marker = (what: string) => join(dir, `marker-${what}`);

beforeAll(async () => {
  lab = await ensureLab();
  dir = await mkdtemp(join(tmpdir(), "taster-pinned-run-"));
  execFileSync("chmod", ["1777", dir]);
  const swcrc = JSON.stringify({
    jsc: { transform: { optimizer: { globals: { vars: { SWCRC_PROBE: '"root .swcrc"' } } } } },
  });
  // 1. Configuration at the recipe's root and a file beside tests/taster; the test reports what it sees.
  await approvedRun("configs", {
    ".swcrc": swcrc,
    "babel.config.js": `require("node:fs").writeFileSync(${JSON.stringify(marker("babel"))}, "ran");\n`,
    "jest.config.js": `require("node:fs").writeFileSync(${JSON.stringify(marker("jest-config"))}, "ran");\n`,
    "lib/beside.ts": "export const beside = 1;\n",
    "tests/taster/install.test.ts": `import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect, test } from "@jest/globals";
declare const SWCRC_PROBE: string;
test("pinned: records what it sees", () => {
  const here = dirname(expect.getState().testPath ?? "");
  writeFileSync(${JSON.stringify(marker("seen"))}, JSON.stringify({
    probe: typeof SWCRC_PROBE === "undefined" ? "no .swcrc" : SWCRC_PROBE,
    beside: existsSync(join(here, "..", "..", "lib", "beside.ts")),
    files: readdirSync(here).sort(),
  }));
});
`,
  });
  // 2. An import of a file outside tests/taster, which would leave a marker when loaded.
  await approvedRun("outside", {
    "lib/evil.ts": `${leaves(marker("outside"))}export const evil = 1;\n`,
    "tests/taster/install.test.ts": `import { test } from "@jest/globals";
import { evil } from "../../lib/evil.ts";
test("pinned: uses the outside file", () => void evil);
`,
  });
  // 3. A symlink inside the pinned tree pointing out of it.
  await approvedRun("symlink", {
    "lib/evil.ts": `${leaves(marker("symlink"))}export const evil = 1;\n`,
    "tests/taster/helper.ts": { symlink: "../../lib/evil.ts" },
    "tests/taster/install.test.ts": `import { test } from "@jest/globals";
import { evil } from "./helper.ts";
test("pinned: uses the symlinked file", () => void evil);
`,
  });
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("approved repo-local code runs exactly its pinned tree", () => {
  test("it runs from a copy of the pinned tree: a file beside tests/taster is not there", async () => {
    const run = runs.configs as Results;
    expect(run.manifest?.repoLocal.allowed).toBe(true);
    expect(rowNames(run, "install")).toContain(
      "pass tests/taster/install.test.ts › pinned: records what it sees",
    );
    const seen = JSON.parse(await readFile(marker("seen"), "utf8"));
    expect(seen.beside).toBe(false);
    expect(seen.files).toEqual(["install.test.ts"]);
  });

  test("a .swcrc, babel.config.js or jest.config.js at the recipe's root has no effect", async () => {
    const seen = JSON.parse(await readFile(marker("seen"), "utf8"));
    expect(seen.probe).toBe("no .swcrc");
    expect(await exists(marker("babel"))).toBe(false);
    expect(await exists(marker("jest-config"))).toBe(false);
  });

  test("an import out of tests/taster fails the tier, naming the import; the file's code never runs", async () => {
    const run = runs.outside as Results;
    expect(run.manifest?.repoLocal.allowed).toBe(true);
    expect(run.tiers.install.status).toBe("fail");
    const failures = run.tiers.install.tests.map((t) => t.failure ?? "").join("\n");
    expect(failures).toContain(
      "import '../../lib/evil.ts' in tests/taster resolves outside the approved tree",
    );
    expect(await exists(marker("outside"))).toBe(false);
  });

  test("a symlink in the pinned tree: repo-local code is not run, and the manifest names the path", async () => {
    const run = runs.symlink as Results;
    expect(run.manifest?.repoLocal.allowed).toBe(false);
    expect(run.manifest?.repoLocal.why).toMatch(/tests\/taster\/helper\.ts is a symlink/);
    expect(logs.symlink).toMatch(/repo-local code not run: .*tests\/taster\/helper\.ts is a symlink/);
    expect(rowNames(run, "install").join("\n")).not.toMatch(/pinned:/);
    expect(await exists(marker("symlink"))).toBe(false);
  });

  test("every run deployed once and left nothing behind", async () => {
    for (const run of Object.values(runs)) {
      expect(run.flags).toMatchObject({ deployCount: 1, cleanTeardown: true });
      expect(await residueOf(lab, run.stack)).toEqual([]);
    }
  });
});
