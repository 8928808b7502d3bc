import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type LabInfo, recipeRepo } from "@taster/lab";

const run = promisify(execFile);
let counter = 0;

/** A stack name no other test (or engineer) uses: short, per process, per call. */
export function uniqueStack(tag: string): string {
  counter += 1;
  return `sw${tag}${process.pid}x${counter}`;
}

const scratch: string[] = [];

export async function tempDir(tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `taster-swarm-${tag}-`));
  scratch.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(scratch.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** A checkout of a lab sample recipe at `ref` (a tag, `main`, or `refs/pull/N/head`). */
export async function checkout(lab: LabInfo, recipe: string, ref = "main"): Promise<string> {
  const dir = await tempDir(recipe);
  await run("git", ["clone", "-q", recipeRepo(lab, recipe), dir]);
  await run("git", ["-C", dir, "fetch", "-q", "origin", `${ref}:refs/taster/checkout`]);
  await run("git", ["-C", dir, "checkout", "-q", "refs/taster/checkout"]);
  return dir;
}

export async function headSha(dir: string): Promise<string> {
  return (await run("git", ["-C", dir, "rev-parse", "--short", "HEAD"])).stdout.trim();
}
