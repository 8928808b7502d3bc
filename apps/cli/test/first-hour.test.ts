import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";

// The dead ends a newcomer hit in the first hour; none of them gets as far as a deployment.
const run = promisify(execFile);
const TASTER = join(import.meta.dirname, "..", "..", "..", "taster");
let lab: LabInfo;
let dir: string;

const taster = (args: string[]) =>
  run(TASTER, args, { env: { ...process.env, DOCKER_HOST: lab.dockerHost } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

beforeAll(async () => {
  lab = await ensureLab();
  dir = await mkdtemp(join(tmpdir(), "taster-first-hour-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("taster run: usage errors", () => {
  it("prints the error and the usage only: no tier table, no results file", async () => {
    const out = join(dir, "out-both");
    const r = await taster(["run", recipeRepo(lab, "hello-web"), "--pr", "1", "--ref", "main", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("taster: give --pr or --ref, not both");
    expect(r.stderr).toContain("usage: taster run [options] <recipe>");
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toMatch(/SKIP|install/);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it("--pr N on a local clone without refs/pull/N/head says what it needs", async () => {
    const clone = join(dir, "hello-web");
    await run("git", ["clone", "-q", recipeRepo(lab, "hello-web"), clone]);
    const out = join(dir, "out-pr");
    const r = await taster(["run", clone, "--pr", "7", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ref refs\/pull\/7\/head not found/);
    expect(r.stderr).toContain("--pr 7 needs the ref refs/pull/7/head");
    expect(r.stderr).toContain("git fetch origin pull/7/head:refs/pull/7/head");
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });
});

describe("taster plan --pr", () => {
  it("plans refs/pull/N/head, as run --pr does", async () => {
    const r = await taster(["plan", recipeRepo(lab, "broken"), "--pr", "3"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ref: "refs/pull/3/head",
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
  });
});
