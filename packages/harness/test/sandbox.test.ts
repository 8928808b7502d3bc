import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { RunContext } from "@taster/testkit";
import { type Broker, type BrokerBackend, startBroker } from "../src/broker";
import { exposeToSandbox, runSandboxed, type SandboxRun } from "../src/sandbox";

// The sandbox itself is under test here, not the deployment: this backend answers from memory so
// the jest child's view of the world (env, uid, socket, broker) can be checked without a stack.
const context: RunContext = {
  recipe: "demo",
  stack: "tsandbox",
  domain: "tsandbox.taster.test",
  sha: "0".repeat(40),
  baseVersion: null,
  headVersion: "1.0.0+1.0",
  chaosVersion: "00000000",
  tier: "install",
  appService: "app",
  services: ["app"],
  settings: {
    healthPath: "/",
    healthService: "app",
    healthPort: 80,
    acceptableStatuses: [200],
    httpTimeoutMs: 5000,
  },
};
const backend: BrokerBackend = {
  exec: async (service, argv) => ({ stdout: `${service}:${argv.join(" ")}`, stderr: "", exitCode: 0 }),
  http: async () => ({ status: 200, headers: {}, body: "ok" }),
  services: async () => [],
  labels: async () => ({ "coop-cloud.tsandbox.version": "1.0.0+1.0" }),
  backupArtifact: () => null,
};

let dir: string;
let broker: Broker;
const SECRET = `parent-secret-${process.pid}-${Date.now()}`;
const LEFTOVER = `taster-sandbox-leftover-${process.pid}-${Date.now()}`;

/** Pids of live processes whose command line names the marker. */
async function processesNaming(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

beforeAll(async () => {
  process.env.TASTER_TEST_PARENT_SECRET = SECRET;
  dir = await mkdtemp(join(tmpdir(), "taster-sandbox-"));
  broker = await startBroker(() => context, backend);
  broker.state.set("seed", { n: 1 });
  await mkdir(join(dir, "tests"), { recursive: true });
  await writeFile(
    join(dir, "tests", "probe.test.ts"),
    `import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";

test("sees only a scrubbed environment", () => {
  expect(Object.keys(process.env).filter((k) => /TOKEN|REDIS|DOCKER|SECRET/.test(k) && k !== "TASTER_BROKER_TOKEN")).toEqual([]);
  expect(process.getuid?.()).toBe(65534);
});
test("cannot read the parent's environ", () => {
  expect(() => readFileSync("/proc/${process.pid}/environ", "utf8")).toThrow();
});
test("cannot reach the docker socket", async () => {
  const err = await new Promise((resolve) => {
    const s = connect("/var/run/docker.sock");
    s.on("connect", () => { s.destroy(); resolve(null); });
    s.on("error", (e) => resolve((e as NodeJS.ErrnoException).code));
  });
  expect(err).toBe("EACCES");
});
test("talks to the broker", async () => {
  expect(app.context.stack).toBe("tsandbox");
  expect(await app.state.get("seed")).toEqual({ n: 1 });
  await app.state.set("written", ["from", "sandbox"]);
  expect((await app.exec("app", ["echo", "hi"])).stdout).toBe("app:echo hi");
  await expect(app.exec("other", ["true"])).rejects.toThrow(/not part of this run's stack/);
});
test("a failing assertion is reported", () => { expect(1).toBe(2); });
test.skip("a skipped test is reported", () => {});
`,
  );
  await writeFile(
    join(dir, "tests", "hang.test.ts"),
    `import { test } from "@jest/globals";
test("hangs", async () => { await new Promise(() => setInterval(() => {}, 1000)); }, 600_000);
`,
  );
  await writeFile(
    join(dir, "tests", "leaves.test.ts"),
    `import { spawn } from "node:child_process";
import { test } from "@jest/globals";
test("starts a process in a session of its own, then returns", () => {
  spawn("sh", ["-c", "sleep 600; : ${LEFTOVER}"], { detached: true, stdio: "ignore" }).unref();
});
test("starts another one, then hangs", async () => {
  spawn("sh", ["-c", "sleep 600; : ${LEFTOVER}"], { detached: true, stdio: "ignore" }).unref();
  await new Promise(() => setInterval(() => {}, 1000));
});
`,
  );
  await exposeToSandbox(join(dir, "tests"), dir);
});

afterAll(async () => {
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

const runOf = (file: string, workDir: string, timeoutMs: number): SandboxRun => ({
  files: [join(dir, "tests", file)],
  roots: [join(dir, "tests")],
  workDir: join(dir, workDir),
  broker: { url: broker.url, token: broker.issue().token },
  context,
  timeoutMs,
});

describe("sandboxed tier run", () => {
  test("runs as nobody with nothing of ours; per-test rows come back", async () => {
    const result = await runSandboxed(runOf("probe.test.ts", "w1", 120_000));
    const byName = Object.fromEntries(result.rows.map((r) => [r.name, r]));
    expect(result.error).toBeUndefined();
    expect(byName["sees only a scrubbed environment"]?.status).toBe("pass");
    expect(byName["cannot read the parent's environ"]?.status).toBe("pass");
    expect(byName["cannot reach the docker socket"]?.status).toBe("pass");
    expect(byName["talks to the broker"]).toMatchObject({ status: "pass", file: "probe.test.ts" });
    expect(byName["a failing assertion is reported"]?.status).toBe("fail");
    expect(byName["a failing assertion is reported"]?.failure).toMatch(/Expected: 2/);
    expect(byName["a skipped test is reported"]?.status).toBe("skip");
    expect(broker.state.get("written")).toEqual(["from", "sandbox"]);
  });

  test("a hang is killed at the timeout and reported as such", async () => {
    const result = await runSandboxed(runOf("hang.test.ts", "w2", 8_000));
    expect(result.timedOut).toBe(true);
    expect(result.rows).toEqual([expect.objectContaining({ status: "fail", name: "timed out after 8s" })]);
  });

  test("nothing a test started outlives its tier, not even a process in a session of its own", async () => {
    const result = await runSandboxed(runOf("leaves.test.ts", "w3", 8_000));
    expect(result.timedOut).toBe(true);
    const left = await processesNaming(LEFTOVER);
    for (const pid of left) process.kill(pid, "SIGKILL");
    expect(left).toEqual([]);
  });

  const stateGet = (token: string) =>
    fetch(`${broker.url}/v1/stateGet`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ key: "seed" }),
    });

  test("the broker refuses a wrong or revoked token", async () => {
    expect((await stateGet("nope")).status).toBe(401);
    const grant = broker.issue();
    expect((await stateGet(grant.token)).status).toBe(200);
    grant.revoke();
    expect((await stateGet(grant.token)).status).toBe(401);
  });

  test("a gated grant waits for its op, and is refused when the op failed", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const waiting = stateGet(broker.issue({ gate }).token);
    const first = await Promise.race([
      waiting.then(() => "answered"),
      new Promise((r) => setTimeout(r, 300, "waiting")),
    ]);
    expect(first).toBe("waiting");
    open();
    expect((await waiting).status).toBe(200);
    const failed = broker.issue({ gate: Promise.reject(new Error("deploy failed")) });
    const refused = await stateGet(failed.token);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({ error: "the tier's op failed: nothing to assert against" });
  });
});
