import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { REDACTED } from "@taster/core";
import { ensureLab, type LabInfo } from "@taster/lab";
import { labRun } from "./lab-run";

/** A value of the worker's (its forge token, say) that a hostile recipe manages to echo. */
const WORKER_TOKEN = `ghp_worker${process.pid}${Date.now().toString(36)}`;

let lab: LabInfo;
let repo: string;

beforeAll(async () => {
  lab = await ensureLab();
  // A recipe whose .env.sample holds the value on a malformed line: the plan error quotes the line.
  repo = await mkdtemp(join(tmpdir(), "taster-secrets-recipe-"));
  await writeFile(
    join(repo, "compose.yml"),
    'version: "3.8"\nservices:\n  app:\n    image: taster-lab/web:1.0\n',
  );
  await writeFile(join(repo, ".env.sample"), `TYPE=echo\n${WORKER_TOKEN}\n`);
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { stdio: "ignore" });
  git("init", "--quiet");
  git("add", "-A");
  git("-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "--quiet", "-m", "echo");
});

afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe("the worker's secrets are masked in a run's outputs", () => {
  test("a worker secret the recipe makes the run print is masked in run.log and results.json, and the leak is flagged", async () => {
    const { onDisk, log } = await labRun(lab, { source: repo, stages: ["install"], secrets: [WORKER_TOKEN] });
    expect(onDisk.tiers.install.status).toBe("fail");
    expect(log).toContain(REDACTED);
    expect(log).not.toContain(WORKER_TOKEN);
    expect(JSON.stringify(onDisk)).not.toContain(WORKER_TOKEN);
    expect(onDisk.flags.noSecretLeak).toBe(false);
  }, 120_000);
});
