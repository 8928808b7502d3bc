import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo } from "@taster/lab";
import { connectRedis } from "@taster/queue";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const run = promisify(execFile);

let lab: LabInfo;
let demo: ChildProcess | undefined;
let stdout = "";
let stderr = "";
let exited: Promise<number | null>;

/** Resolves with the first match of `pattern` in what the demo printed so far or prints next. */
function waitFor(pattern: RegExp, stream: () => string, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`no ${pattern} within ${timeoutMs / 1000}s:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    const poll = setInterval(() => {
      const match = pattern.exec(stream());
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(match);
      } else if (demo?.exitCode !== null) {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`the demo exited ${demo?.exitCode} before ${pattern}:\n${stdout}\n${stderr}`));
      }
    }, 200);
  });
}

const refused = async (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
    () => false,
    () => true,
  );

async function keysMatching(pattern: string): Promise<number> {
  const redis = connectRedis(lab.redisUrl);
  await new Promise((resolve) => redis.once("ready", resolve));
  let count = 0;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    count += keys.length;
  } while (cursor !== "0");
  redis.disconnect();
  return count;
}

/** Swarm objects still carrying the run's stack label. */
async function stackResidue(stack: string): Promise<string[]> {
  const label = `label=com.docker.stack.namespace=${stack}`;
  const residue: string[] = [];
  for (const kind of ["service", "network", "volume", "secret", "config"]) {
    const { stdout: ids } = await run("docker", [kind, "ls", "-q", "--filter", label]);
    if (ids.trim()) residue.push(`${kind}: ${ids.trim().split("\n").join(" ")}`);
  }
  return residue;
}

beforeAll(async () => {
  lab = await ensureLab();
});

afterAll(async () => {
  // Only on a failed test: the stack must not outlive it.
  if (demo && demo.exitCode === null) {
    demo.kill("SIGINT");
    await exited;
  }
});

describe("./taster demo --keep", () => {
  it("keeps the run page reachable after the verdict, then Ctrl-C leaves nothing behind", async () => {
    demo = spawn(join(ROOT, "taster"), ["demo", "--keep"], { stdio: ["ignore", "pipe", "pipe"] });
    exited = new Promise((resolve) => demo?.once("exit", (code) => resolve(code)));
    demo.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    demo.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });

    const [, runPage = ""] = await waitFor(/^dashboard: (http:\/\/\S+)$/m, () => stdout, 600_000);
    const [, stop = ""] = await waitFor(/kill -INT (\d+)/, () => stderr, 10_000);
    expect(stderr).toContain("stop them with Ctrl-C");
    expect(stdout).toContain("verdict: GREEN");
    const bridge = new URL(runPage).origin;
    const sim = /forge simulator on (http:\/\/\S+)/.exec(stderr)?.[1] ?? "";
    const stack = /teardown: removing stack (\S+)/.exec(stderr)?.[1] ?? "";
    expect(stack).not.toBe("");

    // Well after the verdict, the link still works and shows it.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const page = await fetch(runPage);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toMatch(/Verdict: passed, level <span[^>]*>L4</);
    const home = await (await fetch(`${bridge}/`)).text();
    expect(home).toContain(`href="${new URL(runPage).pathname}"`);
    // The PR comment links to the same page.
    expect(stdout).toContain(runPage);

    // The printed command stops it, like Ctrl-C.
    process.kill(Number(stop), "SIGINT");
    await expect(exited).resolves.toBe(0);
    const [, patterns = ""] = /stopped: ports closed, Redis keys (.+) removed/.exec(stderr) ?? [];
    expect(patterns).toMatch(/^local-\S+:\* localb-\S+:\*$/);
    for (const pattern of patterns.split(" ")) await expect(keysMatching(pattern)).resolves.toBe(0);
    await expect(refused(runPage)).resolves.toBe(true);
    await expect(refused(sim)).resolves.toBe(true);
    expect(() => process.kill(Number(stop), 0)).toThrow();
    await expect(stackResidue(stack)).resolves.toEqual([]);
  }, 900_000);
});
