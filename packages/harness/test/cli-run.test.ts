import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import { type Results, toolPaths } from "../src/index";
import { residueOf } from "./lab-run";

// `./taster run` as a person runs it. Each run uses its own copy of the sample repo, so its stack
// name (a hash of repo, PR and sha) is its own on the shared engine.
let lab: LabInfo;
let dir: string;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  results: Results;
}

// The CLI itself (what ./taster execs after its bootstrap), in ONE process: node with tsx's loader.
// The tsx binary would fork a second process and relay signals to it, and under load its relay
// can deliver SIGINT twice — the CLI's "second signal: exit now" (130) instead of a teardown.
const CLI = ["--import", "tsx", join(toolPaths.repoRoot, "apps", "cli", "src", "main.ts")];

function taster(args: string[], opts: { interruptWhen?: RegExp } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [...CLI, "run", ...args], {
    cwd: toolPaths.repoRoot,
    env: { ...process.env, NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let signalled = false;
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (opts.interruptWhen && !signalled && opts.interruptWhen.test(stderr)) {
      signalled = true;
      child.kill("SIGINT");
    }
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", async (code) => {
      const out = args[args.indexOf("--out") + 1] as string;
      try {
        const results = JSON.parse(await readFile(join(out, "results.json"), "utf8")) as Results;
        resolve({ code, stdout, stderr, results });
      } catch {
        reject(new Error(`taster run exited ${code} without results.json:\n${stderr}`));
      }
    });
  });
}

async function copyOf(recipe: string, name: string): Promise<string> {
  const path = join(dir, name, `${recipe}.git`);
  execFileSync("git", ["clone", "-q", "--mirror", recipeRepo(lab, recipe), path]);
  return path;
}

let broken: CliRun;
let interrupted: CliRun;

beforeAll(async () => {
  lab = await ensureLab();
  dir = await mkdtemp(join(tmpdir(), "taster-cli-"));
  const brokenRepo = await copyOf("broken", "b");
  const helloRepo = await copyOf("hello-web", "h");
  [broken, interrupted] = await Promise.all([
    taster([brokenRepo, "--pr", "3", "--stages", "install", "--out", join(dir, "out-broken")]),
    taster([helloRepo, "--pr", "1", "--out", join(dir, "out-int")], { interruptWhen: /upgrade › op:/ }),
  ]);
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("./taster run", () => {
  test("a failing recipe exits 1 with live progress on stderr and the table on stdout", () => {
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/install › op: deploy 0\.1\.0\+1\.0/);
    expect(broken.stdout).toMatch(/^install \(head [0-9a-f]{7,}\)\s+FAIL\s/m);
    expect(broken.stdout).toMatch(/broken @ [0-9a-f]{12}: FAIL, level L0/);
    expect(broken.results.tiers.install.reason).toMatch(/healthcheck failing/);
  });

  test("a failing op reads as what happened: no jest exit line, no force-exit hint, no ../ paths", async () => {
    expect(broken.stdout).toMatch(/^install \(head [0-9a-f]{7,}\)\s+FAIL\s/m);
    expect(broken.stderr).not.toMatch(/without a report/);
    expect(broken.stderr).toMatch(/install › assert: not run: the op failed/);
    const log = await readFile(join(dir, "out-broken", "run.log"), "utf8");
    expect(log).not.toMatch(/Force exiting Jest|\.\.\/\.\.\//);
  });

  test("SIGINT mid-run stops, tears the stack down, and exits 2 with results written", async () => {
    expect(interrupted.stderr).toMatch(/SIGINT: stopping, tearing the stack down/);
    expect(interrupted.code).toBe(2);
    expect(interrupted.results.outcome).toBe("error");
    expect(interrupted.results.error).toMatch(/interrupted|aborted/);
    expect(interrupted.results.flags.cleanTeardown).toBe(true);
    expect(await residueOf(lab, interrupted.results.stack)).toEqual([]);
  });

  test("a bad --stages value is a usage error (exit 2) that changes nothing", () => {
    const result = (() => {
      try {
        execFileSync(process.execPath, [...CLI, "run", dir, "--stages", "install,deploy"], {
          cwd: toolPaths.repoRoot,
          env: { ...process.env, NODE_OPTIONS: "" },
          stdio: "pipe",
        });
        return { status: 0, stderr: "" };
      } catch (error) {
        const e = error as { status: number; stderr: Buffer };
        return { status: e.status, stderr: e.stderr.toString() };
      }
    })();
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown stage\(s\): deploy/);
  });
});
