import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import { connectRedis } from "@taster/queue";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const TASTER = join(ROOT, "taster");

let lab: LabInfo;
let out: string;
let bridge: ChildProcess | undefined;
// A prefix of this test alone on the lab's shared Redis, removed afterwards.
const prefix = `pub-${process.pid}-${randomBytes(3).toString("hex")}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs `./taster <args>` and resolves with its exit code and output, whatever the code. */
function taster(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      TASTER,
      args,
      { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `./taster bridge` as docs/dashboard.md starts it, resolved once it says where it listens. */
function startBridge(env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    bridge = spawn(TASTER, ["bridge", "--role", "http"], { env: { ...process.env, ...env } });
    let said = "";
    bridge.stderr?.on("data", (chunk: Buffer) => {
      said += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(said)?.[1];
      if (url) resolve(url);
    });
    bridge.once("exit", (code) => reject(new Error(`taster bridge exited ${code}:\n${said}`)));
  });
}

beforeAll(async () => {
  lab = await ensureLab();
  out = await mkdtemp(join(tmpdir(), "taster-publish-"));
});

afterAll(async () => {
  if (bridge && bridge.exitCode === null) {
    const exited = new Promise((resolve) => bridge?.once("exit", resolve));
    bridge.kill("SIGTERM");
    await exited;
  }
  const redis = connectRedis(lab.redisUrl);
  await new Promise((resolve) => redis.once("ready", resolve));
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== "0");
  redis.disconnect();
  if (out) await rm(out, { recursive: true, force: true });
});

describe("taster run --publish", () => {
  it("puts a local run on the dashboard: listed on the front page, its run page with verdict and log", async () => {
    const port = await freePort();
    const env = {
      TASTER_REDIS_URL: lab.redisUrl,
      TASTER_REDIS_PREFIX: prefix,
      TASTER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    };
    const run = await taster(
      ["run", recipeRepo(lab, "hello-web"), "--stages", "install", "--out", out, "--publish"],
      env,
    );
    expect(run.stderr).not.toContain("--publish failed");
    expect(run.code).toBe(0);
    const published =
      /published: run (local-hello-web-[a-z0-9-]+) to redis:\/\/\*\*\*@\S+ \(prefix (\S+)\); on the dashboard: (\S+)/.exec(
        run.stdout,
      );
    expect(published?.[2]).toBe(prefix);
    const runId = published?.[1] ?? "";
    expect(published?.[3]).toBe(`http://127.0.0.1:${port}/runs/${runId}`);
    // The Redis password is never printed.
    expect(run.stdout + run.stderr).not.toContain(new URL(lab.redisUrl).password || "\u0000");

    const url = await startBridge({
      ...env,
      TASTER_PORT: String(port),
      TASTER_BIND: "127.0.0.1",
      TASTER_GITHUB_WEBHOOK_SECRET: randomBytes(16).toString("hex"),
    });
    const home = await (await fetch(url)).text();
    const row = home.match(new RegExp(`<tr data-run="${runId}">[\\s\\S]*?</tr>`))?.[0] ?? "";
    const text = row.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");
    expect(text).toContain("hello-web local run of hello-web.git");
    expect(text).toMatch(/done L1/);

    const page = await fetch(`${url}/runs/${runId}`);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toMatch(/Verdict: passed, level <span[^>]*>L1</);
    expect(body).toContain("a local run (<code>taster run --publish</code>)");
    expect(body).toContain("install › tier: PASS");
    expect(body).toContain("teardown: zero residue");
  }, 300_000);
});
