import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab } from "@taster/lab";
import type { RunContext } from "@taster/testkit";
import { post } from "../../testkit/src/client";
import { type Broker, type BrokerBackend, startBroker } from "../src/broker";
import {
  acquireSlot,
  boundedLines,
  exposeToSandbox,
  OUTPUT_LIMITS,
  runSandboxed,
  type SandboxResult,
  type SandboxRun,
  type SandboxSlot,
} from "../src/sandbox";

// The sandbox itself is under test here, not the deployment: this backend answers from memory so
// the jest child's view of the world (env, uid, network, /proc, other runs, broker) can be checked
// without a stack. Everything else is real: namespaces, uids, the lab's Redis, the broker socket.
const context: RunContext = {
  recipe: "demo",
  stack: "tsandbox",
  domain: "tsandbox.taster.test",
  sha: "0".repeat(40),
  baseVersion: null,
  headVersion: "1.0.0+1.0",
  chaosVersion: "00000000",
  versionLabel: null,
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

/** One run as the orchestrator makes it: its directory, slot, broker and tests. */
interface TestRun {
  dir: string;
  slot: SandboxSlot;
  broker: Broker;
  tests: string;
}

let root: string;
let a: TestRun;
let b: TestRun;
let decoy: ChildProcess;
let listener: Server;
let probe: SandboxResult;
const SECRET = `parent-secret-${process.pid}-${Date.now()}`;
const MARK = `taster-sandbox-${process.pid}-${Date.now()}`;

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

/** The host's own non-loopback IPv4 addresses. */
const hostAddresses = () =>
  Object.values(networkInterfaces())
    .flat()
    .filter((i) => i && i.family === "IPv4" && !i.internal)
    .map((i) => i?.address as string);

async function newRun(name: string, files: (slot: SandboxSlot) => Record<string, string>): Promise<TestRun> {
  const dir = join(root, name);
  await mkdir(dir);
  const slot = await acquireSlot(dir, root);
  const broker = await startBroker(() => context, backend, slot);
  const tests = join(dir, "tests");
  await mkdir(tests);
  for (const [file, source] of Object.entries(files(slot))) await writeFile(join(tests, file), source);
  await exposeToSandbox(tests, slot);
  return { dir, slot, broker, tests };
}

const runOf = (run: TestRun, file: string, workDir: string, timeoutMs: number): SandboxRun => ({
  files: [join(run.tests, file)],
  roots: [run.tests],
  workDir: join(run.dir, "sandbox", workDir),
  slot: run.slot,
  broker: { socketPath: run.broker.socketPath, token: run.broker.issue().token },
  context,
  timeoutMs,
});

const rowsByName = (result: SandboxResult) => Object.fromEntries(result.rows.map((r) => [r.name, r]));

/** A test file that fails with the error code of `action` unless it throws one. */
const denied = (name: string, action: string) => `
test(${JSON.stringify(name)}, async () => {
  let outcome = "ALLOWED";
  try { await (${action})(); } catch (error) { outcome = error.code ?? error.message; }
  console.log(${JSON.stringify(`${name}: `)} + outcome);
  expect(outcome).not.toBe("ALLOWED");
});`;

const TCP_CONNECT = `(host, port) => new Promise((resolve, reject) => {
  const s = connect({ host, port });
  s.setTimeout(3000, () => s.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
  s.on("connect", () => { s.destroy(); resolve(); });
  s.on("error", reject);
})`;

beforeAll(async () => {
  process.env.TASTER_TEST_PARENT_SECRET = SECRET;
  root = await mkdtemp(join(tmpdir(), "taster-sandbox-"));
  const lab = await ensureLab();
  const redisPort = Number(new URL(lab.redisUrl).port || 6379);
  // Something on every host address, so only the sandbox's own network can stop a connection.
  listener = createServer((s) => s.end("hello\n"));
  await new Promise<void>((r) => listener.listen(0, "0.0.0.0", r));
  const hostPort = (listener.address() as { port: number }).port;
  decoy = spawn("sleep", ["600", MARK], { stdio: "ignore" });
  a = await newRun("a", (slot) => ({
    "probe.test.ts": `import { readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";

const tcp = ${TCP_CONNECT};

test("sees only a scrubbed environment, as its slot's uid without privileges", () => {
  expect(Object.keys(process.env).filter((k) => /TOKEN|REDIS|DOCKER|SECRET/.test(k) && k !== "TASTER_BROKER_TOKEN")).toEqual([]);
  expect(process.getuid?.()).toBe(${slot.uid});
  const status = readFileSync("/proc/self/status", "utf8");
  expect(status).toMatch(/^CapEff:\\s+0+$/m);
  expect(status).toMatch(/^NoNewPrivs:\\s+1$/m);
});
${denied("cannot read the parent's environ", `() => readFileSync("/proc/${process.pid}/environ", "utf8")`)}
${denied("cannot reach the docker socket", `() => new Promise((resolve, reject) => { const s = connect("/var/run/docker.sock"); s.on("connect", () => { s.destroy(); resolve(); }); s.on("error", reject); })`)}
${denied("cannot connect to the lab Redis on loopback", `() => tcp("127.0.0.1", ${redisPort})`)}
${hostAddresses()
  .map((ip) => denied(`cannot connect to the host address ${ip}`, `() => tcp("${ip}", ${hostPort})`))
  .join("\n")}
test("sees no process of the host in /proc", () => {
  const pids = readdirSync("/proc").filter((e) => /^\\d+$/.test(e));
  const cmdlines = pids.map((p) => { try { return readFileSync(\`/proc/\${p}/cmdline\`, "utf8"); } catch { return ""; } });
  console.log(\`/proc holds \${pids.length} processes\`);
  expect(cmdlines.filter((c) => c.includes(${JSON.stringify(MARK)}))).toEqual([]);
  expect(pids.length).toBeLessThan(10);
});
test("talks to the broker over its unix socket", async () => {
  expect(process.env.TASTER_BROKER_SOCKET).toMatch(/broker\\.sock$/);
  expect(app.context.stack).toBe("tsandbox");
  expect(await app.state.get("seed")).toEqual({ n: 1 });
  await app.state.set("written", ["from", "sandbox"]);
  expect((await app.exec("app", ["echo", "hi"])).stdout).toBe("app:echo hi");
  await expect(app.exec("other", ["true"])).rejects.toThrow(/not part of this run's stack/);
});
test("a failing assertion is reported", () => { expect(1).toBe(2); });
test.skip("a skipped test is reported", () => {});
`,
    "hang.test.ts": `import { test } from "@jest/globals";
test("hangs", async () => { await new Promise(() => setInterval(() => {}, 1000)); }, 600_000);
`,
    "leaves.test.ts": `import { spawn } from "node:child_process";
import { test } from "@jest/globals";
test("starts a process in a session of its own, then returns", () => {
  spawn("sh", ["-c", "sleep 600; : ${MARK}-left"], { detached: true, stdio: "ignore" }).unref();
});
test("starts another one, then hangs", async () => {
  spawn("sh", ["-c", "sleep 600; : ${MARK}-left"], { detached: true, stdio: "ignore" }).unref();
  await new Promise(() => setInterval(() => {}, 1000));
});
`,
    "loud.test.ts": `import { test } from "@jest/globals";
test("prints far more than a tier may stream", () => {
  const line = "x".repeat(1000);
  for (let i = 0; i < 3000; i++) process.stdout.write(\`\${i} \${line}\\n\`);
  process.stdout.write("y".repeat(200_000)); // a line that never ends
});
`,
    "paths.test.ts": `import { expect, test } from "@jest/globals";
test("fails with a stack trace", () => { expect(1).toBe(2); });
`,
    "marker.test.ts": `import { writeFileSync } from "node:fs";
writeFileSync(${JSON.stringify(join(tmpdir(), `${MARK}-ran`))}, "ran");
`,
  }));
  a.broker.state.set("seed", { n: 1 });
  probe = await runSandboxed(runOf(a, "probe.test.ts", "w1", 120_000));
}, 180_000);

afterAll(async () => {
  decoy?.kill("SIGKILL");
  listener?.close();
  for (const run of [a, b]) {
    await run?.broker.close();
    await run?.slot.release();
  }
  await rm(root, { recursive: true, force: true });
  await rm(join(tmpdir(), `${MARK}-ran`), { force: true });
});

describe("sandboxed tier run", () => {
  test("runs as its slot's uid with nothing of ours; per-test rows come back", () => {
    const byName = rowsByName(probe);
    expect(probe.error).toBeUndefined();
    expect(byName["cannot read the parent's environ"]?.status).toBe("pass");
    expect(byName["cannot reach the docker socket"]?.status).toBe("pass");
    expect(byName["a failing assertion is reported"]?.status).toBe("fail");
    expect(byName["a failing assertion is reported"]?.failure).toMatch(/Expected: 2/);
    expect(byName["a skipped test is reported"]?.status).toBe("skip");
  });

  test("has no network: neither the lab Redis on loopback nor any host address answers", () => {
    const byName = rowsByName(probe);
    expect(byName["cannot connect to the lab Redis on loopback"]).toMatchObject({ status: "pass" });
    const hosts = probe.rows.filter((r) => r.name.startsWith("cannot connect to the host address"));
    expect(hosts.length).toBe(hostAddresses().length);
    for (const row of hosts) expect(row).toMatchObject({ status: "pass" });
  });

  test("sees none of the host's processes in /proc", () => {
    expect(rowsByName(probe)["sees no process of the host in /proc"]).toMatchObject({ status: "pass" });
  });

  test("the broker is a unix socket that only the slot's uid may open, and it works", async () => {
    const socket = await stat(a.broker.socketPath);
    expect(socket.isSocket()).toBe(true);
    expect([socket.mode & 0o777, socket.uid]).toEqual([0o600, a.slot.uid]);
    expect(rowsByName(probe)["talks to the broker over its unix socket"]).toMatchObject({
      status: "pass",
      file: "probe.test.ts",
    });
    expect(a.broker.state.get("written")).toEqual(["from", "sandbox"]);
  });

  test("work dirs are 0700 and the slot's; the run's directory is closed to others", async () => {
    const work = join(a.dir, "sandbox", "w1");
    for (const dir of [work, join(work, "home"), join(work, "tmp"), join(work, "jest-cache")]) {
      const info = await stat(dir);
      expect([dir, info.mode & 0o777, info.uid]).toEqual([dir, 0o700, a.slot.uid]);
    }
    const runDir = await stat(a.dir);
    expect([runDir.mode & 0o077, runDir.gid]).toEqual([0o010, a.slot.gid]);
  });

  test("two runs in two slots: other uids, and neither can read, write or call into the other", async () => {
    const theirs = join(a.dir, "sandbox", "w1");
    b = await newRun("b", () => ({
      "peek.test.ts": `import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { expect, test } from "@jest/globals";
test("runs as another uid", () => { expect(process.getuid?.()).not.toBe(${a.slot.uid}); });
${denied("cannot list the other run's work dir", `() => readdirSync(${JSON.stringify(theirs)})`)}
${denied("cannot read the other run's files", `() => readFileSync(${JSON.stringify(join(theirs, "jest.config.json"))}, "utf8")`)}
${denied("cannot write into the other run's work dir", `() => writeFileSync(${JSON.stringify(join(theirs, "planted.txt"))}, "x")`)}
${denied("cannot read the other run's tests", `() => readdirSync(${JSON.stringify(a.tests)})`)}
${denied("cannot open the other run's broker", `() => new Promise((resolve, reject) => { const s = connect(${JSON.stringify(a.broker.socketPath)}); s.on("connect", () => { s.destroy(); resolve(); }); s.on("error", reject); })`)}
`,
    }));
    expect(b.slot.uid).not.toBe(a.slot.uid);
    const result = await runSandboxed(runOf(b, "peek.test.ts", "w1", 120_000));
    expect(result.error).toBeUndefined();
    expect(result.rows.length).toBe(6);
    for (const row of result.rows)
      expect([row.name, row.status, row.failure]).toEqual([row.name, "pass", undefined]);
    await expect(stat(join(theirs, "planted.txt"))).rejects.toThrow(/ENOENT/);
  });

  test("without namespaces no test code runs and the result says why", async () => {
    // A real probe of a real binary that fails the way unshare does without CAP_SYS_ADMIN.
    const unshare = join(root, "unshare-denied");
    await writeFile(
      unshare,
      "#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n",
    );
    await chmod(unshare, 0o755);
    const result = await runSandboxed({ ...runOf(a, "marker.test.ts", "w-nons", 60_000), unshare });
    expect(result.rows).toEqual([]);
    expect(result.error).toMatch(
      /no test code was run: this worker cannot make the test sandbox \(unshare: unshare failed: Operation not permitted\)/,
    );
    await expect(stat(join(tmpdir(), `${MARK}-ran`))).rejects.toThrow(/ENOENT/);
  });

  test("a tier's streamed output is bounded: long lines cut, the total capped", async () => {
    const lines: string[] = [];
    const result = await runSandboxed({
      ...runOf(a, "loud.test.ts", "w-loud", 120_000),
      onOutput: (line) => lines.push(line),
    });
    expect(rowsByName(result)["prints far more than a tier may stream"]?.status).toBe("pass");
    const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
    expect(bytes).toBeLessThanOrEqual(OUTPUT_LIMITS.totalBytes + 200);
    expect(lines.at(-1)).toMatch(/^\(truncated: this tier's output passed 1048576 bytes/);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(OUTPUT_LIMITS.lineChars + 40);
  });

  test("the run log shows jest's lines with paths from the tests' root, without the force-exit hint", async () => {
    const lines: string[] = [];
    await runSandboxed({ ...runOf(a, "paths.test.ts", "w-paths", 120_000), onOutput: (l) => lines.push(l) });
    const text = lines.join("\n");
    expect(text).toMatch(/^FAIL paths\.test\.ts/m);
    expect(text).toMatch(/^\s+at .*\(paths\.test\.ts:2:\d+\)$/m);
    expect(text).not.toContain("../");
    expect(text).not.toMatch(/Force exiting Jest/);
  });

  test("a cut line never shows part of a secret: redaction comes first", async () => {
    const secret = "s3cr3t-".repeat(8);
    const lines: string[] = [];
    const stream = new PassThrough();
    boundedLines(
      [stream],
      (l) => lines.push(l),
      (t) => t.split(secret).join("[redacted]"),
      {
        lineChars: 100,
        totalBytes: 10_000,
      },
    );
    stream.write(`${"a".repeat(80)}${secret}tail\n`);
    stream.write(`${"b".repeat(90)}${secret}`); // unended, past the line length
    const ended = new Promise((done) => stream.on("end", done));
    stream.end();
    await ended;
    expect(lines.join("\n")).not.toMatch(/s3cr3t/);
    expect(lines[0]).toMatch(/^a{80}\[redacted\]tail$/);
    expect(lines[1]).toMatch(/^b{90}\[redacted\]$/);
  });

  test("a hang is killed at the timeout and reported as such", async () => {
    const result = await runSandboxed(runOf(a, "hang.test.ts", "w2", 8_000));
    expect(result.timedOut).toBe(true);
    expect(result.rows).toEqual([expect.objectContaining({ status: "fail", name: "timed out after 8s" })]);
  });

  test("nothing a test started outlives its tier, not even a process in a session of its own", async () => {
    const result = await runSandboxed(runOf(a, "leaves.test.ts", "w3", 8_000));
    expect(result.timedOut).toBe(true);
    const left = await processesNaming(`${MARK}-left`);
    for (const pid of left) process.kill(pid, "SIGKILL");
    expect(left).toEqual([]);
  });

  const stateGet = (token: string) =>
    post({ socketPath: a.broker.socketPath, token }, "/v1/stateGet", { key: "seed" });

  test("the broker refuses a wrong or revoked token", async () => {
    expect((await stateGet("nope")).status).toBe(401);
    const grant = a.broker.issue();
    expect((await stateGet(grant.token)).status).toBe(200);
    grant.revoke();
    expect((await stateGet(grant.token)).status).toBe(401);
  });

  test("a gated grant waits for its op, and is refused when the op failed", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const waiting = stateGet(a.broker.issue({ gate }).token);
    const first = await Promise.race([
      waiting.then(() => "answered"),
      new Promise((r) => setTimeout(r, 300, "waiting")),
    ]);
    expect(first).toBe("waiting");
    open();
    expect((await waiting).status).toBe(200);
    const failed = a.broker.issue({ gate: Promise.reject(new Error("deploy failed")) });
    const refused = await stateGet(failed.token);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: "the tier's op failed: nothing to assert against" });
  });
});
