/**
 * The production build (`pnpm build`, scripts/build.mjs) that Taster's image runs on plain node:
 * the built CLI answers, plans a lab recipe, and `./taster` picks the build only when it is fresh.
 */
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, recipeRepo } from "@taster/lab";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..", "..");

describe("the built CLI (node, no tsx)", () => {
  let scratch: string;
  let built: string;
  const cli = (args: string[]) =>
    run(process.execPath, [built, ...args], {
      cwd: ROOT,
      env: { ...process.env, TASTER_ROOT: ROOT, NODE_OPTIONS: "" },
      maxBuffer: 16 << 20,
    });

  beforeAll(async () => {
    // Built into scratch, not dist/: this checkout's ./taster keeps running what it ran before.
    await mkdir(join(ROOT, "test-artifacts"), { recursive: true });
    scratch = await mkdtemp(join(ROOT, "test-artifacts", "build-"));
    built = join(scratch, "taster.mjs");
    const { stdout } = await run(process.execPath, [join(ROOT, "scripts", "build.mjs"), "--outfile", built], {
      cwd: ROOT,
    });
    expect(stdout).toMatch(/^build: .*taster\.mjs and \d+ chunks, \d+ KiB in [\d.]+ s$/m);
  }, 120_000);

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test("answers --help with every service command", async () => {
    const { stdout } = await cli(["--help"]);
    for (const command of ["bridge [options]", "worker [options]", "janitor [options]", "doctor [options]"])
      expect(stdout).toContain(command);
  });

  test("plans a lab recipe: the abra env and the Docker CLI's rendering", async () => {
    const lab = await ensureLab();
    const { stdout } = await cli(["plan", recipeRepo(lab, "hello-web"), "--ref", "1.1.0+1.1"]);
    const plan = JSON.parse(stdout) as { ref: string; services: { name: string; image: string }[] };
    expect(plan.ref).toBe("1.1.0+1.1");
    expect(plan.services.map((s) => [s.name, s.image])).toEqual([["app", "taster-lab/web:1.1"]]);
  }, 300_000);
});

describe("./taster: the build when fresh, else tsx", () => {
  // A checkout in miniature: the real script, a "build" and a "tsx" loader that only say which they are.
  let root: string;
  const say = async (path: string, text: string) => {
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, text);
  };
  const taster = async () => (await run(join(root, "taster"), ["x"], { cwd: root })).stdout.trim();
  const age = (path: string, secondsAgo: number) => {
    const when = new Date(Date.now() - secondsAgo * 1000);
    return utimes(path, when, when);
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "taster-pick-"));
    await copyFile(join(ROOT, "taster"), join(root, "taster"));
    await chmod(join(root, "taster"), 0o755);
    await say(join(root, "pnpm-lock.yaml"), "");
    await say(join(root, "node_modules", ".taster-installed"), "");
    await say(join(root, "apps", "cli", "src", "main.ts"), "");
    await say(join(root, "dist", "taster.mjs"), 'console.log("build", process.argv[2]);\n');
    // tsx's loader, which the script imports into node ahead of the CLI's sources.
    await say(
      join(root, "node_modules", "tsx", "dist", "loader.mjs"),
      'console.log("tsx", process.argv[2]);\nprocess.exit(0);\n',
    );
    await age(join(root, "pnpm-lock.yaml"), 60);
    await age(join(root, "apps", "cli", "src", "main.ts"), 30);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test("runs the build when no source is newer", async () => {
    expect(await taster()).toBe("build x");
  });

  test("runs the sources through tsx once a source is edited after the build", async () => {
    await age(join(root, "apps", "cli", "src", "main.ts"), 0);
    await age(join(root, "dist", "taster.mjs"), 10);
    expect(await taster()).toBe("tsx x");
  });

  test("runs the build whatever the clock says where tsx is not installed (the image)", async () => {
    await rm(join(root, "node_modules", "tsx"), { recursive: true });
    expect(await taster()).toBe("build x");
  });
});
