import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab } from "@taster/lab";

const run = promisify(execFile);
const TASTER = join(import.meta.dirname, "..", "..", "..", "taster");

/** `taster sweep`, its exit code and output; never throws. */
async function sweep(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TASTER, ["sweep", ...args], {
      env: { ...process.env, TASTER_ENROLLED_REPOS: "" },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  await ensureLab();
});

describe("taster sweep: bad input is refused before anything runs or is written", () => {
  it("names the unknown recipe and the enrolled ones", async () => {
    const out = join(await mkdtemp(join(tmpdir(), "sweep-cli-")), "out");
    const r = await sweep("--recipes", "hello-web,no-such-recipe", "--out", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown recipe(s): no-such-recipe (enrolled: ");
    expect(r.stderr).toContain("hello-web");
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it("refuses an --out it cannot write", async () => {
    const parent = await mkdtemp(join(tmpdir(), "sweep-cli-"));
    const file = join(parent, "a-file");
    await writeFile(file, "");
    const r = await sweep("--recipes", "hello-web", "--out", file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out ${file} is a file, not a directory`);
    // Not writable for anyone: a read-only mount when the tests run as root (root ignores modes).
    const locked = join(parent, "locked");
    await mkdir(locked);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await run("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", locked]);
    else await chmod(locked, 0o500);
    try {
      const r2 = await sweep("--recipes", "hello-web", "--out", join(locked, "out"));
      expect(r2.code).toBe(2);
      expect(r2.stderr).toContain(`${locked} is not writable`);
    } finally {
      if (asRoot) await run("umount", [locked]);
    }
    expect(await readdir(parent)).toEqual(["a-file", "locked"]);
  });

  it("refuses a bad --attempts", async () => {
    const r = await sweep("--recipes", "hello-web", "--attempts", "two");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--attempts must be a whole number ≥ 0, not "two"');
  });
});
