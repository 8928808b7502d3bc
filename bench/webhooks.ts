/**
 * bench/webhooks: throughput and latency of signed `!testme` deliveries (unique comments, trusted
 * user) against the bridge as it is deployed — the http role in one process, the intake role in
 * another — and, for comparison, the single-process `all` role, each against a bare express +
 * @octokit/webhooks verify-only handler measured in the same run. Every server (bare handler, bridge
 * roles, forge simulator) runs in its own child process; this process only generates load. Loopback
 * only, bounded loops, real Redis (the lab's, under unique prefixes).
 *
 *   ./node_modules/.bin/tsx bench/webhooks.ts [requests=2000] [concurrency=32] [paced-rate=200] [intake-concurrency]
 *
 * The forge simulator runs at nice 19 (in production the forge's CPU is not ours); the intake role
 * runs under SCHED_IDLE as it does in production (see docs/bridge.md, "Roles").
 *
 * Phases per deployment: warm-up; closed loop (throughput); wait until the intake has processed
 * everything; paced open loop at the given rate for 10 s (latency, measured on its own); wait again.
 * Targets (issue 19): the http role's throughput ≥ 0.9× the bare handler's; p99 ≤ 10 ms at 200 req/s;
 * its RSS after the run ≤ 100 MiB. With a production build (`pnpm build`, dist/taster.mjs) the http
 * role runs from it, as deployed (`taster bridge`, TASTER_BRIDGE_ROLE=http), and the bare handler
 * from a bundle of its own, on plain node too; otherwise both under tsx. Both get the node flags the
 * deployed http role has (NODE_OPTIONS of the `app` service in infra/deploy/compose.yml): the
 * baseline is measured the same way as what it is compared with. Each server's CPU time per
 * delivery is printed too: unlike req/s and p99 it hardly moves with the machine's other load.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { setPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBareHandler } from "@taster/bridge/bare-handler";
import { githubCommentPayload, signGithub, startForgeSim } from "@taster/forge-sim";
import { ensureLab } from "@taster/lab";
import { connectRedis, IntakeQueue, type Redis, RunQueues, whenReady } from "@taster/queue";
import { build } from "esbuild";
import { deployedHttpNodeOptions } from "./deployed";

const SECRET = "bench-secret";
const TOKEN = "bench-token";
const REPO = "coop-cloud/hello-web";
/** Each PR's head, the same in the forge simulator's process and in the load generator's. */
const headOf = (pr: number) => createHash("sha1").update(`bench-pr-${pr}`).digest("hex");
const RATE_SECONDS = 10;
const WARM_UP = 25;

// ---------------------------------------------------------------------------------------------
// Child processes: the servers under test. Each answers the parent with its URL over IPC and
// exits when the parent goes away.

const [, , mode, ...childArgs] = process.argv;

if (mode === "--forge-sim") {
  // The forge, as GitHub would be elsewhere: one open PR with one `!testme` per number, so comment
  // ids are 1_000_000 + pr - 1.
  const prs = Number(childArgs[0]);
  const sim = await startForgeSim({ token: TOKEN });
  sim.state.addOrgMember("coop-cloud", "maintainer");
  for (let pr = 1; pr <= prs; pr++) {
    sim.state.addPull(REPO, { number: pr, headSha: headOf(pr) });
    sim.state.addComment(REPO, pr, "maintainer", `!testme ${headOf(pr)}`);
  }
  // Keep the call recorder from growing without bound under load.
  setInterval(() => {
    sim.calls.length = 0;
  }, 1000);
  await serveChild(sim.url);
}

if (mode === "--bare") {
  await serveChild((await startBareHandler(SECRET)).url);
}

if (mode === "--bridge") {
  // A bridge exactly as `./taster bridge --role <role>` runs it: configuration from the environment,
  // forge clients built from it (GitHub's write pacing included), logs at the default level (to a file).
  const [role, prefix, simUrl, redisUrl, intakeConcurrency] = childArgs;
  const { createBridge, loadBridgeConfig, yieldCpuToWebhookAnswers } = await import("@taster/bridge");
  const config = loadBridgeConfig(bridgeEnv(role ?? "", prefix ?? "", simUrl ?? "", redisUrl ?? "", "0"));
  if (role === "intake") yieldCpuToWebhookAnswers(); // as `taster bridge --role intake` does
  const concurrency = Number(intakeConcurrency ?? 0);
  const bridge = await createBridge(config, concurrency ? { intake: { concurrency } } : {});
  await serveChild(await bridge.start());
}

/** The bridge's configuration, as `taster bridge` reads it from the environment. */
function bridgeEnv(role: string, prefix: string, simUrl: string, redisUrl: string, port: string) {
  return {
    TASTER_BRIDGE_ROLE: role,
    TASTER_PORT: port,
    TASTER_BIND: "127.0.0.1",
    TASTER_REDIS_URL: redisUrl,
    TASTER_GITHUB_WEBHOOK_SECRET: SECRET,
    TASTER_GITHUB_TOKEN: TOKEN,
    TASTER_GITHUB_API_URL: simUrl,
    TASTER_RECONCILE_INTERVAL_SEC: "0",
    TASTER_REDIS_PREFIX: prefix,
    TASTER_BULL_PREFIX: `${prefix}-bull`,
    TASTER_TRIGGERERS_FILE: "/nonexistent",
    TASTER_ENROLLED_REPOS: REPO,
  };
}

async function serveChild(url: string): Promise<never> {
  process.send?.(url);
  process.on("disconnect", () => process.exit(0));
  return new Promise<never>(() => {});
}

// ---------------------------------------------------------------------------------------------
// The load generator.

const REQUESTS = Number(mode ?? 2000);
const CONCURRENCY = Number(childArgs[0] ?? 32);
const RATE = Number(childArgs[1] ?? 200);
const INTAKE_CONCURRENCY = childArgs[2] ?? "0";
const PACED = RATE * RATE_SECONDS;
const ns = `bench-${process.pid}`;

interface Server {
  url: string;
  pid: number;
  close(): void;
}

const NODE_OPTIONS = deployedHttpNodeOptions();
/** The environment of the servers compared (the bare handler and the http role): the deployed flags. */
const serverEnv = (env: NodeJS.ProcessEnv = process.env) => ({ ...env, NODE_OPTIONS });

interface Delivery {
  body: string;
  headers: Record<string, string>;
}

interface Figures {
  rps: number;
  latency: number[];
  /** Commands not yet processed when the last answer of the closed loop went out, and the drain time. */
  backlog?: { waiting: number; seconds: number };
  rss?: { before: number; peak: number; after: number };
  /** Share of paced deliveries the server answered within 5 and 10 ms by its own clock (its /metrics histogram). */
  serverWithin?: { ms5: number; ms10: number };
  /** The answering process's CPU time (user + system) per delivery, closed and paced loops together. */
  cpuMs: number;
  jobs?: number;
  /** Redis's own stalls (LATENCY LATEST: event → worst ms) during the paced loop, e.g. an AOF rewrite's fork. */
  redisStalls?: string;
}

function startChild(
  args: string[],
  logName?: string,
  how: { module?: string; execArgv?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<Server> {
  const log = logName ? openSync(join(tmpdir(), `${ns}-${logName}.log`), "w") : "ignore";
  const child: ChildProcess = fork(how.module ?? fileURLToPath(import.meta.url), args, {
    execArgv: how.execArgv ?? process.execArgv,
    stdio: ["ignore", "inherit", log, "ipc"],
    ...(how.env ? { env: how.env } : {}),
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${args[0]} child exited with ${code}`)));
    child.once("message", (url) =>
      resolve({ url: String(url), pid: child.pid ?? 0, close: () => void child.kill() }),
    );
  });
}

const BUILT = join(fileURLToPath(new URL("..", import.meta.url)), "dist", "taster.mjs");

/** The http role from the production build, exactly as deployed: `node dist/taster.mjs bridge`. */
async function startBuiltHttp(prefix: string, simUrl: string, redisUrl: string): Promise<Server> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const log = openSync(join(tmpdir(), `${ns}-http-built.log`), "w");
  const child = spawn(process.execPath, [BUILT, "bridge"], {
    env: serverEnv({ PATH: process.env.PATH, ...bridgeEnv("http", prefix, simUrl, redisUrl, String(port)) }),
    stdio: ["ignore", log, log],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (tries > 300 || child.exitCode !== null)
      throw new Error(`the built http role did not start (see ${ns}-http-built.log)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: child.pid ?? 0, close: () => void child.kill() };
}

/**
 * The bare handler the way the built http role runs: bundled (esbuild, as `pnpm build` does) and
 * started on plain node with the same flags, not under tsx.
 */
async function startBuiltBare(): Promise<Server> {
  const outfile = join(tmpdir(), `${ns}-bare.cjs`);
  await build({
    stdin: {
      contents: [
        'import { startBareHandler } from "@taster/bridge/bare-handler";',
        `startBareHandler(${JSON.stringify(SECRET)}).then(({ url }) => {`,
        "  process.send?.(url);",
        '  process.on("disconnect", () => process.exit(0));',
        "});",
      ].join("\n"),
      resolveDir: fileURLToPath(new URL(".", import.meta.url)),
      loader: "ts",
    },
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile,
    logLevel: "warning",
  });
  const server = await startChild([], undefined, { module: outfile, execArgv: [], env: serverEnv() });
  rmSync(outfile, { force: true });
  return server;
}

/** CPU time (user + system) a process has used so far, in ms (Linux). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Each delivery a new comment on its own PR, signed in advance (signing is the forge's CPU, not ours). */
function makeDeliveries(count: number, firstPr: number): Delivery[] {
  return Array.from({ length: count }, (_, i) => {
    const pr = firstPr + i;
    const body = JSON.stringify(
      githubCommentPayload({
        repo: REPO,
        pr,
        // The sha the commenter saw: no push record is needed to run it (docs/bridge.md).
        body: `!testme ${headOf(pr)}`,
        user: "maintainer",
        commentId: 1_000_000 + pr - 1,
      }),
    );
    return {
      body,
      headers: {
        "content-type": "application/json",
        "x-github-event": "issue_comment",
        "x-github-delivery": `${ns}-${pr}`,
        "x-hub-signature-256": signGithub(SECRET, body),
      },
    };
  });
}

async function send(url: string, delivery: Delivery): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { method: "POST", headers: delivery.headers, body: delivery.body });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`HTTP ${response.status} from ${url}: ${text}`);
  return performance.now() - started;
}

/** Closed loop: CONCURRENCY clients send back to back. Returns requests per second. */
async function throughput(url: string, deliveries: Delivery[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++];
        if (delivery) await send(url, delivery);
      }
    }),
  );
  return deliveries.length / ((performance.now() - started) / 1000);
}

/** Open loop: a request every 1/RATE s whatever the answers do; returns each request's latency. */
function paced(url: string, deliveries: Delivery[]): Promise<number[]> {
  const started = performance.now();
  return Promise.all(
    deliveries.map(async (delivery, i) => {
      const due = started + (i * 1000) / RATE;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      return send(url, delivery);
    }),
  );
}

/** Resident set size of another process (Linux), in bytes. */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

/** Samples a process's RSS every 100 ms while `work` runs. */
async function withRss<T>(pid: number, peak: { value: number }, work: () => Promise<T>): Promise<T> {
  const sampler = setInterval(() => {
    peak.value = Math.max(peak.value, rssOf(pid));
  }, 100);
  try {
    return await work();
  } finally {
    clearInterval(sampler);
  }
}

/** The bridge's own handling-time histogram: answers within 5 and 10 ms, and all answers so far. */
async function handled(url: string): Promise<{ ms5: number; ms10: number; count: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  const bucket = (le: string) =>
    read(new RegExp(`taster_webhook_handling_seconds_bucket\\{[^}]*le="${le}"[^}]*\\} (\\d+)`));
  return {
    ms5: bucket("0.005"),
    ms10: bucket("0.01"),
    count: read(/taster_webhook_handling_seconds_count\{[^}]*\} (\d+)/),
  };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/** The intake queue of one deployment, read from Redis (the bench does not share the bridge's memory). */
function intakeOf(redis: Redis, prefix: string) {
  const intake = new IntakeQueue({ redis, keyPrefix: prefix, bullPrefix: `${prefix}-bull` });
  const runs = new RunQueues({ redis, keyPrefix: prefix, bullPrefix: `${prefix}-bull` });
  // Taken in but not moved into the queue yet, or waiting, delayed or running there.
  const unprocessed = () => intake.backlog();
  return {
    unprocessed,
    /** Waits until every accepted command became a run (or failed for good); returns the seconds it took. */
    async settle(timeoutMs = 300_000): Promise<{ waiting: number; seconds: number }> {
      const started = performance.now();
      const waiting = await unprocessed();
      while ((await unprocessed()) > 0) {
        if (performance.now() - started > timeoutMs) throw new Error(`${prefix}: the intake did not drain`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return { waiting, seconds: (performance.now() - started) / 1000 };
    },
    jobs: () => runs.queueFor("lab").count(),
    async close() {
      await Promise.all([intake.close(), runs.close()]);
    },
  };
}

/** Measures one bridge deployment: closed loop, drain, paced loop, drain. PRs from `firstPr` on. */
async function measureBridge(
  url: string,
  httpPid: number,
  intake: ReturnType<typeof intakeOf>,
  firstPr: number,
): Promise<Figures> {
  const webhook = `${url}/webhooks/github`;
  for (const delivery of makeDeliveries(WARM_UP, firstPr)) await send(webhook, delivery);
  await intake.settle();
  const rss = { before: rssOf(httpPid), peak: { value: 0 } };
  const cpuBefore = cpuOf(httpPid);
  const closed = makeDeliveries(REQUESTS, firstPr + WARM_UP);
  const rps = await withRss(httpPid, rss.peak, () => throughput(webhook, closed));
  const backlog = await intake.settle();
  const open = makeDeliveries(PACED, firstPr + WARM_UP + REQUESTS);
  const histogramBefore = await handled(url);
  await redis.call("LATENCY", "RESET");
  const latency = await withRss(httpPid, rss.peak, () => paced(webhook, open));
  const histogramAfter = await handled(url);
  const redisStalls = await redisLatency();
  const cpuMs = (cpuOf(httpPid) - cpuBefore) / (REQUESTS + PACED);
  await intake.settle();
  return {
    rps,
    latency,
    backlog,
    rss: { before: rss.before, peak: rss.peak.value, after: rssOf(httpPid) },
    cpuMs,
    serverWithin: {
      ms5: (histogramAfter.ms5 - histogramBefore.ms5) / (histogramAfter.count - histogramBefore.count),
      ms10: (histogramAfter.ms10 - histogramBefore.ms10) / (histogramAfter.count - histogramBefore.count),
    },
    jobs: await intake.jobs(),
    redisStalls,
  };
}

/** What Redis's latency monitor recorded since the last reset: "fork 14 ms, command 50 ms", or "none". */
async function redisLatency(): Promise<string> {
  const events = (await redis.call("LATENCY", "LATEST")) as [string, number, number, number][];
  return events.map(([event, , , worst]) => `${event} ${worst} ms`).join(", ") || "none";
}

const perDeployment = WARM_UP + REQUESTS + PACED;
const sim = await startChild(["--forge-sim", String(2 * perDeployment + 10)]);
// In production the forge's CPU is GitHub's, not ours: here it only gets what the servers leave.
setPriority(sim.pid, 19);
const lab = await ensureLab();
const redis = connectRedis(lab.redisUrl);
await whenReady(redis);
// Redis's own stalls (an AOF rewrite's fork, a slow command) are recorded, to tell them apart from the bridge's.
const latencyThreshold =
  ((await redis.call("CONFIG", "GET", "latency-monitor-threshold")) as string[])[1] ?? "0";
await redis.call("CONFIG", "SET", "latency-monitor-threshold", "5");
const builtBridge = existsSync(BUILT);
const bare = builtBridge
  ? await startBuiltBare()
  : await startChild(["--bare"], undefined, { env: serverEnv() });
const split = { prefix: `${ns}-split`, intake: intakeOf(redis, `${ns}-split`) };
const single = { prefix: `${ns}-all`, intake: intakeOf(redis, `${ns}-all`) };
const bridgeArgs = (role: string, prefix: string) => [
  "--bridge",
  role,
  prefix,
  sim.url,
  lab.redisUrl,
  INTAKE_CONCURRENCY,
];
const children: Server[] = [sim, bare];

try {
  const bareUrl = `${bare.url}/webhooks/github`;
  for (const delivery of makeDeliveries(WARM_UP, 1)) await send(bareUrl, delivery);
  const bareCpu = cpuOf(bare.pid);
  const bareFigures: Figures = {
    rps: await throughput(bareUrl, makeDeliveries(REQUESTS, 1)),
    latency: await paced(bareUrl, makeDeliveries(PACED, 1)),
    cpuMs: 0,
  };
  bareFigures.cpuMs = (cpuOf(bare.pid) - bareCpu) / (REQUESTS + PACED);

  // Production: the http role answers, the intake role (another process) processes.
  const built = builtBridge;
  const http = built
    ? await startBuiltHttp(split.prefix, sim.url, lab.redisUrl)
    : await startChild(bridgeArgs("http", split.prefix), "http", { env: serverEnv() });
  const worker = await startChild(bridgeArgs("intake", split.prefix), "intake");
  children.push(http, worker);
  const splitFigures = await measureBridge(http.url, http.pid, split.intake, 1);
  http.close();
  worker.close();

  // For comparison: both halves in one process (`./taster bridge`, the demo, local-stack).
  const all = await startChild(bridgeArgs("all", single.prefix), "all");
  children.push(all);
  const allFigures = await measureBridge(all.url, all.pid, single.intake, perDeployment + 1);

  report(bareFigures, splitFigures, allFigures, built);
} finally {
  for (const child of children) child.close();
  await split.intake.close();
  await single.intake.close();
  for (const pattern of [`${ns}-split*`, `${ns}-all*`]) {
    let cursor = "0";
    do {
      const [nextCursor, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = nextCursor;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  }
  await redis.call("CONFIG", "SET", "latency-monitor-threshold", latencyThreshold);
  redis.disconnect();
}

function report(bareFigures: Figures, splitFigures: Figures, allFigures: Figures, built: boolean): void {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const p = (f: Figures, q: number) => percentile(f.latency, q);
  const row = (name: string, f: Figures) => {
    const ratio = (f.rps / bareFigures.rps).toFixed(2);
    const head = `  ${name.padEnd(22)} ${f.rps.toFixed(0).padStart(5)} req/s  ratio ${ratio.padStart(4)}   p50 ${ms(p(f, 50))}  p99 ${ms(p(f, 99))}   CPU ${f.cpuMs.toFixed(2)} ms/delivery`;
    if (!f.backlog || !f.rss) return head;
    const share = (x: number | undefined) => `${(100 * (x ?? Number.NaN)).toFixed(2)}%`;
    const server = `server-side (its own histogram): paced answers within 5 ms ${share(f.serverWithin?.ms5)}, within 10 ms ${share(f.serverWithin?.ms10)}`;
    return `${head}\n  ${"".padEnd(22)} ${server}; Redis's own stalls meanwhile: ${f.redisStalls}\n  ${"".padEnd(22)} answering process RSS ${mb(f.rss.before)} → peak ${mb(f.rss.peak)} → after the run ${mb(f.rss.after)}; ${f.backlog.waiting} commands unprocessed after the closed loop, drained in ${f.backlog.seconds.toFixed(1)} s; runs queued ${f.jobs} of ${perDeployment}`;
  };
  const lines = [
    `bench/webhooks: closed loop ${REQUESTS} deliveries at concurrency ${CONCURRENCY}; paced ${PACED} at ${RATE} req/s, started only after the intake had processed the closed loop's commands`,
    `  targets: http role throughput ratio ≥ 0.90 of bare; p99 ≤ 10 ms at ${RATE} req/s; RSS after the run ≤ 100 MiB (every server in its own process; http role ${built ? "from the build, dist/taster.mjs, and the bare handler bundled, both on plain node" : "and bare handler under tsx: no build"}; NODE_OPTIONS=${NODE_OPTIONS || "(none)"} as deployed)`,
    row("bare verify-only", bareFigures),
    row("bridge http + intake", splitFigures),
    row("bridge all (1 process)", allFigures),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
