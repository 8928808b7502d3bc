/**
 * Hostile recipe-shipped test code (tests/taster/, approved by a pin for the PR): it hangs, it
 * prints the app's secret, it tries to leave its sandbox.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import type { BrokerBackend, Results, TestRow } from "@taster/harness";
import { acquireSlot, exposeToSandbox, runSandboxed, startBroker, toolPaths } from "@taster/harness";
import { ensureLab } from "@taster/lab";
import { connectHost, execInService } from "@taster/swarm";
import type { RunContext } from "@taster/testkit";
import { verdictOf } from "../invariants";
import { APP_SECRET_PATH, withSecret } from "../variants/compose";
import { ApprovedOverlay, newMarker } from "../variants/overlay";
import { escapingTest, hangingTest, secretPrintingTest } from "../variants/overlay-tests";
import type { World } from "../world";
import { COMMAND, type Scenario } from "./scenario";

/** Short, so the scenario stays short: the kill path is the same as at the default 300 s. */
const HANG_TIER_TIMEOUT_S = 8;

let hang: { overlay: ApprovedOverlay; marker: string } | undefined;

const overlayHangs: Scenario = {
  id: "overlay-hangs",
  did: `an approved tests/taster/install.test.ts that never returns (and starts a detached sleeper); tier timeout ${HANG_TIER_TIMEOUT_S} s`,
  expected: `killed at ${HANG_TIER_TIMEOUT_S} s: install failed "timed out", nothing it started still alive, clean teardown, one verdict`,
  expect: { verdicts: 1 },
  get world() {
    const marker = newMarker("hang");
    const overlay = new ApprovedOverlay({
      files: async () => ({ "install.test.ts": hangingTest(marker) }),
      tierTimeoutSeconds: HANG_TIER_TIMEOUT_S,
    });
    hang = { overlay, marker };
    return overlay.world();
  },
  async run(world) {
    const { marker } = hang as { marker: string };
    const { state, results } = await testme(world, "hang");
    const install = results?.tiers.install;
    const problems: string[] = [];
    if (state !== "failed") problems.push(`the run ended ${state}, not failed`);
    const timedOut = `timed out after ${HANG_TIER_TIMEOUT_S}s`;
    if (!install?.tests.some((row) => row.name.includes(timedOut)))
      problems.push(`the install tier has no "${timedOut}" row`);
    const sticky = world.stack.stickyComment() ?? "";
    if (!sticky.includes(timedOut)) problems.push(`the comment does not say "${timedOut}"`);
    const survivors = await processesWith(marker);
    if (survivors.length) {
      problems.push(`${survivors.length} process(es) the test started outlived the tier`);
      for (const pid of survivors) killQuietly(pid);
    }
    const assertSeconds = ((install?.timings.assertMs ?? 0) / 1000).toFixed(1);
    return {
      observed: `run ${state}; install ${install?.status} (${install?.reason ?? "?"}) after ${assertSeconds} s of assertions; ${survivors.length} leftover process(es); teardown ${results?.flags.cleanTeardown ? "clean" : "NOT clean"}`,
      problems,
    };
  },
};

let leak: ApprovedOverlay | undefined;

const overlayPrintsSecret: Scenario = {
  id: "overlay-prints-secret",
  did: "an approved overlay test reads the app's generated secret (exec cat /run/secrets/…) and prints it (stdout, stderr, test name, failure message) and its whole env",
  expected: "the secret value in no comment, status, service log, run log, run.log file or results",
  expect: { verdicts: 1 },
  get world() {
    leak = new ApprovedOverlay({
      files: async () => ({ "install.test.ts": secretPrintingTest(APP_SECRET_PATH) }),
      recipe: withSecret,
    });
    return leak.world();
  },
  async run(world) {
    const overlay = leak as ApprovedOverlay;
    const done = { yes: false };
    const secretRead = readSecretWhileDeployed(world, done);
    const { state, results } = await testme(world, "secret").finally(() => {
      done.yes = true;
    });
    const secret = await secretRead;
    const problems: string[] = [];
    if (!secret) problems.push("the scenario could not read the app's secret from the deployment");
    const runLog = await readOutput(overlay.outDir, "run.log");
    const places: Record<string, string> = {
      comments: world.stack.sim.state
        .commentsOn(world.stack.repo, 1)
        .map((c) => c.body)
        .join("\n"),
      statuses: world.stack.sim.state.statuses.map((s) => s.description ?? "").join("\n"),
      "service log": world.logLines.join("\n"),
      "run log": await redisRunLog(world),
      "run.log": runLog,
      "results.json": await readOutput(overlay.outDir, "results.json"),
      "stored result": JSON.stringify(results ?? {}),
    };
    const leaked = secret ? Object.keys(places).filter((place) => places[place]?.includes(secret)) : [];
    if (leaked.length) problems.push(`the app's secret appears in: ${leaked.join(", ")}`);
    // The test must really have printed it (masked), or this scenario proves nothing.
    const printed = runLog.includes("chaos secret: [redacted]");
    if (!printed) problems.push('run.log has no "chaos secret: [redacted]" line: the test did not print it');
    const token = /chaos env TASTER_BROKER_TOKEN=(\S*)/.exec(runLog)?.[1];
    if (token && token !== "[redacted]")
      problems.push("the broker token the test printed is in run.log unmasked");
    return {
      observed: `run ${state}; secret read from the app: ${secret ? `${secret.length} chars` : "no"}; printed masked: ${printed ? "yes" : "no"}; found in: ${leaked.join(", ") || "nowhere"}; broker token in run.log: ${token ?? "not printed"}`,
      problems,
    };
  },
};

let escaping: { overlay: ApprovedOverlay; writeTargets: string[] } | undefined;
let otherRun: OtherRun | undefined;

/** The swarm manager port: dockerd listens on every host address there. */
const SWARM_PORT = 2377;

const overlayEscapes: Scenario = {
  id: "overlay-escapes",
  did: "an approved overlay test tries the Docker socket, the lab Redis password file, Redis and the host over TCP, Taster's /proc environ, another live sandbox's environ, work dir and broker, writes outside its work dir, SIGTERM to Taster",
  expected: "every attempt denied (one passing test per attempt), the run still reports",
  expect: { verdicts: 1 },
  async setup() {
    otherRun = await startOtherRun();
    const other = otherRun;
    return { world: {}, cleanup: () => other.stop() };
  },
  get world() {
    const writeTargets = [toolPaths.recipesTests, join(toolPaths.repoRoot, "allowlist"), "/etc"];
    const overlay = new ApprovedOverlay({
      files: async () => {
        const lab = await ensureLab();
        const redis = new URL(lab.redisUrl);
        const sockets = new Set(["/var/run/docker.sock"]);
        if (lab.dockerHost.startsWith("unix://")) sockets.add(lab.dockerHost.slice("unix://".length));
        const other = otherRun as OtherRun;
        const source = escapingTest({
          dockerSockets: [...sockets],
          secretFiles: [join(lab.stateDir, "redis.pass"), join(lab.stateDir, "lab.json")],
          redis: { host: redis.hostname, port: Number(redis.port || 6379) },
          hostAddresses: hostAddresses().map((host) => ({ host, port: SWARM_PORT })),
          // The worker runs in this process (the overlay's run step is a function).
          hostPids: [process.pid, process.ppid],
          otherRun: { workDir: other.workDir, brokerSocket: other.brokerSocket },
          writeTargets,
        });
        return { "install.test.ts": source };
      },
    });
    escaping = { overlay, writeTargets: [...writeTargets, (otherRun as OtherRun).workDir] };
    return overlay.world();
  },
  async run(world) {
    const { overlay, writeTargets } = escaping as { overlay: ApprovedOverlay; writeTargets: string[] };
    const { state, results } = await testme(world, "escape");
    const rows = (results?.tiers.install.tests ?? []).filter((row) => row.name.startsWith("escape:"));
    const problems: string[] = [];
    if (state !== "done") problems.push(`the run ended ${state}, not done`);
    const allowed = rows.filter((row) => row.status !== "pass");
    if (rows.length < 18) problems.push(`only ${rows.length} escape attempts were reported`);
    if (!(await otherRun?.alive())) problems.push("the other run's sandbox was not running throughout");
    if (allowed.length) problems.push(`not denied: ${allowed.map(shortName).join("; ")}`);
    const runLog = await readOutput(overlay.outDir, "run.log");
    const said = runLog.split("\n").filter((l) => l.includes("chaos escape "));
    const left = await escapedFiles(writeTargets);
    if (left.length) problems.push(`files written outside the work dir: ${left.join(", ")}`);
    return {
      observed: `run ${state}; ${rows.length - allowed.length}/${rows.length} attempts denied (${summarise(said)})`,
      problems,
    };
  },
};

/** The host's own non-loopback IPv4 addresses. */
function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i?.family === "IPv4" && !i.internal)
    .map((i) => i?.address as string);
}

/** Another run's tier, sandboxed the way the orchestrator does it, waiting while the scenario runs. */
interface OtherRun {
  workDir: string;
  brokerSocket: string;
  alive(): Promise<boolean>;
  stop(): Promise<void>;
}

const OTHER_CONTEXT: RunContext = {
  recipe: "other",
  stack: "chaosother",
  domain: "chaosother.taster.test",
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

// The other run has no deployment: its broker answers from memory (it is only there to be a target).
const NO_DEPLOYMENT: BrokerBackend = {
  exec: async () => ({ stdout: "", stderr: "", exitCode: 0 }),
  http: async () => ({ status: 200, headers: {}, body: "" }),
  services: async () => [],
  labels: async () => ({}),
  backupArtifact: () => null,
};

async function startOtherRun(): Promise<OtherRun> {
  const root = await mkdtemp(join(tmpdir(), "taster-runs-other-"));
  const runDir = join(root, "run");
  await mkdir(runDir);
  const slot = await acquireSlot(runDir, root);
  const broker = await startBroker(() => OTHER_CONTEXT, NO_DEPLOYMENT, slot);
  const tests = join(runDir, "tests");
  await mkdir(tests);
  await writeFile(
    join(tests, "waits.test.ts"),
    'import { test } from "@jest/globals";\ntest("another run\'s tier, waiting", () => new Promise(() => {}), 900_000);\n',
  );
  await exposeToSandbox(tests, slot);
  const workDir = join(runDir, "sandbox", "install");
  const abort = new AbortController();
  const finished = runSandboxed({
    files: [join(tests, "waits.test.ts")],
    roots: [tests],
    workDir,
    slot,
    broker: { socketPath: broker.socketPath, token: broker.issue().token },
    context: OTHER_CONTEXT,
    timeoutMs: 900_000,
    signal: abort.signal,
  });
  const alive = async () => (await processesWith(join(workDir, "jest.config.json"))).length > 0;
  // Ready once its jest is up (the hostile test must find it running).
  for (let i = 0; i < 120 && !(await alive()); i++) await new Promise((r) => setTimeout(r, 250));
  return {
    workDir,
    brokerSocket: broker.socketPath,
    alive,
    stop: async () => {
      abort.abort();
      await finished;
      await broker.close();
      await slot.release();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Comments !testme, waits for the verdict; returns it and the stored results of the run. */
async function testme(world: World, tag: string) {
  const id = world.addComment(COMMAND);
  await world.deliver(id, COMMAND, `${tag}-${world.tag}`);
  const state = await verdictOf(world, 200_000);
  const run = (await world.stack.worker.runs.listRuns()).find((r) => r.job.sha === world.sha);
  return { state, results: run?.result as Results | undefined };
}

/** Reads the app's secret from its container while the stack is up (the scenario's own check). */
async function readSecretWhileDeployed(world: World, done: { yes: boolean }): Promise<string | undefined> {
  const host = await connectHost(world.stack.lab.dockerHost);
  try {
    while (!done.yes) {
      const read = await execInService(host, world.stackName, "app", ["cat", APP_SECRET_PATH], {
        timeoutMs: 5_000,
      }).catch(() => undefined);
      const value = read?.exitCode === 0 ? read.stdout.trim() : "";
      if (value) return value;
      await new Promise((r) => setTimeout(r, 500));
    }
    return undefined;
  } finally {
    await host.close();
  }
}

async function redisRunLog(world: World): Promise<string> {
  const lines: string[] = [];
  for (const run of await world.stack.worker.runs.listRuns())
    lines.push(...(await world.stack.worker.logs.readLog(run.runId)).map((l) => l.line));
  return lines.join("\n");
}

async function readOutput(outDir: string | undefined, name: string): Promise<string> {
  return outDir ? readFile(join(outDir, name), "utf8").catch(() => "") : "";
}

/** Pids of live processes whose command line carries `marker`. */
async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}

async function escapedFiles(dirs: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    const path = join(dir, "chaos-escaped.txt");
    if (
      await readFile(path).then(
        () => true,
        () => false,
      )
    )
      found.push(path);
  }
  return found;
}

const shortName = (row: TestRow) =>
  `${row.name.replace(/^escape: /, "")} (${row.failure?.split("\n")[0] ?? ""})`;

/** "docker socket /var/run/docker.sock: denied (EACCES)" lines → "docker socket EACCES, …". */
function summarise(lines: string[]): string {
  return lines
    .map((line) => /chaos escape (.*?): (.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${(m[1] ?? "").split(" ")[0]} ${(m[2] ?? "").replace(/^denied \((.*)\)$/, "$1")}`)
    .join(", ");
}

export const OVERLAY_SCENARIOS: Scenario[] = [overlayHangs, overlayPrintsSecret, overlayEscapes];
