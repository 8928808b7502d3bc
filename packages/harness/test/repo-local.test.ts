import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import type { Results } from "../src/index";
import { resultsTable, toolPaths } from "../src/index";
import { labRun, residueOf, rowNames } from "./lab-run";

// A recipe ("hello-local") built from hello-web's repo plus a commit that adds repo-local code:
// tests/taster/install.test.ts writes a marker file and probes what the sandbox can reach. A second
// commit (a PR changing that code) moves the tree hash.
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

let lab: LabInfo;
let dir: string;
let marker: string;
let approvedSha: string;
let changedSha: string;
let approvedTree: string;
const runs: Record<string, Results> = {};

const repoLocalTest = (markerPath: string, version: string) => `// ${version}
import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";

test("repo-local: writes its marker", () => {
  writeFileSync(${JSON.stringify(markerPath)}, app.context.sha);
});
test("repo-local: the parent's environment is out of reach", () => {
  expect(() => readFileSync(\`/proc/\${process.ppid}/environ\`)).toThrow();
  expect(Object.keys(process.env).filter((k) => /DOCKER|REDIS|GITHUB|GITEA|SECRET/.test(k))).toEqual([]);
});
test("repo-local: prints its broker token", () => {
  console.log(\`broker token: \${process.env.TASTER_BROKER_TOKEN}\`);
});
test("repo-local: the Docker socket is out of reach", async () => {
  const code = await new Promise((resolve) => {
    const socket = connect("/var/run/docker.sock");
    socket.on("connect", () => { socket.destroy(); resolve("connected"); });
    socket.on("error", (e) => resolve((e as NodeJS.ErrnoException).code));
  });
  expect(code).toBe("EACCES");
});
`;

async function publish(name: string, work: string): Promise<string> {
  const bare = join(dir, name, "hello-local.git");
  await mkdir(join(dir, name), { recursive: true });
  git(dir, "clone", "-q", "--bare", work, bare);
  return bare;
}

/** The recipe's repository as a forge job names it: pins are keyed by it. */
const REPO = "coop-cloud/hello-local";

const allowlistPinning = async (tree: string) => {
  const path = join(dir, `allow-${tree.slice(0, 8)}.yml`);
  await writeFile(
    path,
    `recipes:\n  - repo: ${REPO}\n    pins:\n      - tree: ${tree}\n        approvedBy: test\n        approvedAt: "2026-11-23"\n        why: reviewed fixture\n`,
  );
  return path;
};

const markerExists = () =>
  stat(marker).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  lab = await ensureLab();
  dir = await mkdtemp(join(tmpdir(), "taster-repo-local-"));
  marker = join(dir, "marker");
  const work = join(dir, "work");
  git(dir, "clone", "-q", recipeRepo(lab, "hello-web"), work);
  await mkdir(join(work, "tests/taster"), { recursive: true });
  await writeFile(join(work, "tests/taster/install.test.ts"), repoLocalTest(marker, "v1"));
  git(work, "add", ".");
  git(work, "commit", "-qm", "add repo-local tests");
  approvedSha = git(work, "rev-parse", "HEAD");
  approvedTree = git(work, "rev-parse", "HEAD:tests/taster");
  await writeFile(join(work, "tests/taster/install.test.ts"), repoLocalTest(marker, "v2: changed by a PR"));
  git(work, "commit", "-qam", "change repo-local tests");
  changedSha = git(work, "rev-parse", "HEAD");
  // The tests directory must let the sandbox uid create the marker.
  execFileSync("chmod", ["1777", dir]);
  // Each run gets its own repo path, so each gets its own stack name.
  const denied = await publish("denied", work);
  const allowed = await publish("allowed", work);
  const changed = await publish("changed", work);
  // A recipes-tests dir with a hanging custom overlay for this recipe (the tier timeout must kill it).
  const recipesTests = join(dir, "recipes-tests");
  await cp(join(toolPaths.recipesTests, "_generic"), join(recipesTests, "_generic"), { recursive: true });
  await mkdir(join(recipesTests, "hello-local", "custom"), { recursive: true });
  await writeFile(
    join(recipesTests, "hello-local", "custom", "hang.test.ts"),
    'import { test } from "@jest/globals";\ntest("hangs forever", () => new Promise(() => setInterval(() => {}, 1000)), 3_600_000);\n',
  );
  execFileSync("chmod", ["-R", "o+rX", recipesTests]);
  // One allowlist file for every run, edited between them the way an admin's approval lands:
  // each run reads it afresh, so the approval counts from the next run on, without a restart.
  const allowlist = join(dir, "allowlist.yml");
  await writeFile(allowlist, "recipes: []\n");

  runs.denied = (
    await labRun(lab, {
      source: denied,
      repo: REPO,
      ref: "HEAD",
      sha: approvedSha,
      stages: ["install"],
      allowlistPath: allowlist,
    })
  ).results;
  const deniedMarker = await markerExists();
  await cp(await allowlistPinning(approvedTree), allowlist);
  const allowedRun = await labRun(lab, {
    source: allowed,
    repo: REPO,
    ref: "HEAD",
    sha: approvedSha,
    stages: ["install"],
    allowlistPath: allowlist,
  });
  runs.allowed = allowedRun.results;
  allowedLog = allowedRun.log;
  const allowedMarker = await markerExists();
  await rm(marker, { force: true });
  runs.changed = (
    await labRun(lab, {
      source: changed,
      repo: REPO,
      ref: "HEAD",
      sha: changedSha,
      stages: ["install", "custom"],
      allowlistPath: allowlist,
      recipesTestsDir: recipesTests,
      tierTimeoutSeconds: 20,
    })
  ).results;
  const changedMarker = await markerExists();
  markers = { deniedMarker, allowedMarker, changedMarker };
}, 400_000);

let markers: Record<string, boolean> = {};
let allowedLog = "";

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("repo-local code behind the allowlist gate", () => {
  test("not allowlisted: not run, and the manifest says why", () => {
    expect(markers.deniedMarker).toBe(false);
    expect(runs.denied?.manifest?.repoLocal).toMatchObject({ allowed: false, treeHash: approvedTree });
    expect(runs.denied?.manifest?.repoLocal.why).toMatch(/not on the repo-local allowlist/);
    expect(rowNames(runs.denied as Results, "install").join("\n")).not.toMatch(/repo-local/);
    expect(runs.denied?.outcome).toBe("pass");
  });

  test("not allowlisted: the table says so on a green run, with the command an admin runs", () => {
    const table = resultsTable(runs.denied as Results);
    expect(table).toMatch(/^install \(head [0-9a-f]{7,}\)\s+PASS/m);
    expect(table).toContain("1 repo-local test file not run: not approved");
    expect(table).toContain(`./taster allowlist add ${REPO} --tree ${approvedTree} --by <your login>`);
    expect(runs.denied?.manifest?.repoLocal.why).toMatch(/an admin reviews it and pins it/);
    // --stages install: the manifest lists what this run runs, not the other tiers' files.
    expect(runs.denied?.manifest?.files.map((f) => f.tier)).toEqual(["install", "install"]);
  });

  test("allowlisted with the pin of its content: runs, and cannot reach the environment or Docker", () => {
    expect(markers.allowedMarker).toBe(true);
    expect(runs.allowed?.manifest?.repoLocal.allowed).toBe(true);
    expect(rowNames(runs.allowed as Results, "install")).toEqual(
      expect.arrayContaining([
        "pass tests/taster/install.test.ts › repo-local: writes its marker",
        "pass tests/taster/install.test.ts › repo-local: the parent's environment is out of reach",
        "pass tests/taster/install.test.ts › repo-local: the Docker socket is out of reach",
      ]),
    );
  });

  test("the broker token a test prints is masked in the run log", () => {
    expect(allowedLog).toContain("broker token: [redacted]");
    expect(allowedLog).not.toMatch(/broker token: (?!\[redacted\])/);
  });

  test("a PR that changed the code is not run on the old pin", () => {
    expect(markers.changedMarker).toBe(false);
    expect(runs.changed?.manifest?.repoLocal.allowed).toBe(false);
    expect(runs.changed?.manifest?.repoLocal.why).toMatch(/is not an approved pin/);
  });

  test("a hanging overlay is killed at the tier timeout, and the run still tears down", async () => {
    expect(runs.changed?.tiers.custom).toMatchObject({ status: "fail" });
    expect(runs.changed?.tiers.custom.tests.map((t) => t.name)).toContain("timed out after 20s");
    expect(runs.changed?.outcome).toBe("fail");
    for (const run of Object.values(runs)) {
      expect(run.flags).toMatchObject({ deployCount: 1, cleanTeardown: true });
      expect(await residueOf(lab, run.stack)).toEqual([]);
    }
  });
});
