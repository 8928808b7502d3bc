/**
 * bench/webhooks: throughput and p99 latency of signed `!testme` deliveries (unique comments, trusted
 * user) against the bridge, compared with a bare express + @octokit/webhooks verify-only handler
 * measured in the same run. Loopback only, bounded loops, real Redis (the lab's, under a unique prefix).
 *
 *   ./node_modules/.bin/tsx bench/webhooks.ts [requests=2000] [concurrency=32] [paced-rate=200] [intake-concurrency]
 *
 * Targets (issue 5): bridge throughput ≥ 50% of the bare handler's; p99 ≤ 20 ms at 200 req/s.
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createBridge, loadBridgeConfig } from "../apps/bridge/src/index";
import { startBareHandler } from "../apps/bridge/test/bare-handler";
import { githubCommentPayload, signGithub, startForgeSim } from "../infra/forge-sim/src/index";
import { ensureLab } from "../infra/lab/src/index";
import { GithubForge } from "../packages/forge/src/index";
import type { Redis } from "../packages/queue/src/index";

process.env.TASTER_LOG_LEVEL ??= "silent";
const { createLogger } = await import("../packages/core/src/index");

const REQUESTS = Number(process.argv[2] ?? 2000);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const RATE = Number(process.argv[4] ?? 200);
const RATE_SECONDS = 10;
/** Intake worker parallelism (default: the bridge's own default). */
const INTAKE_CONCURRENCY = Number(process.argv[5] ?? 0);
const SECRET = "bench-secret";
const REPO = "coop-cloud/hello-web";
const ns = `bench-${process.pid}`;

interface Delivery {
  body: string;
  headers: Record<string, string>;
}

/** Deliveries as the forge would send them: each a new comment on its own PR, signed in advance. */
function makeDeliveries(count: number, firstPr: number, addComment: (pr: number) => number): Delivery[] {
  return Array.from({ length: count }, (_, i) => {
    const pr = firstPr + i;
    const commentId = addComment(pr);
    const body = JSON.stringify(
      githubCommentPayload({ repo: REPO, pr, body: "!testme", user: "maintainer", commentId }),
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
async function paced(url: string, deliveries: Delivery[], sampleRss: () => void): Promise<number[]> {
  const started = performance.now();
  const pending = deliveries.map(async (delivery, i) => {
    const due = started + (i * 1000) / RATE;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    if (i % RATE === 0) sampleRss();
    return send(url, delivery);
  });
  return Promise.all(pending);
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error("the intake did not drain in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/**
 * The forge runs in a child process, as GitHub would be elsewhere: its CPU is not the bridge's.
 * It seeds one open PR with one `!testme` comment per number, so comment ids are 1_000_000 + pr - 1.
 */
if (process.argv[2] === "--forge-sim") {
  const prs = Number(process.argv[3]);
  const sim = await startForgeSim({ token: "bench-token" });
  sim.state.addOrgMember("coop-cloud", "maintainer");
  for (let pr = 1; pr <= prs; pr++) {
    sim.state.addPull(REPO, { number: pr, headSha: randomBytes(20).toString("hex") });
    sim.state.addComment(REPO, pr, "maintainer", "!testme");
  }
  // Keep the call recorder from growing without bound under load.
  setInterval(() => {
    sim.calls.length = 0;
  }, 1000);
  process.send?.(sim.url);
  process.on("disconnect", () => process.exit(0));
  await new Promise(() => {});
}

const total = REQUESTS * 2 + RATE * RATE_SECONDS;
const simProcess = fork(fileURLToPath(import.meta.url), ["--forge-sim", String(total + 50)], {
  execArgv: process.execArgv,
  stdio: "inherit",
});
const simUrl = await new Promise<string>((resolve) =>
  simProcess.once("message", (url) => resolve(String(url))),
);
const sim = { url: simUrl, close: async () => void simProcess.kill() };
const addComment = (pr: number) => 1_000_000 + pr - 1;
const lab = await ensureLab();

const config = loadBridgeConfig({
  TASTER_PORT: "0",
  TASTER_REDIS_URL: lab.redisUrl,
  TASTER_GITHUB_WEBHOOK_SECRET: SECRET,
  TASTER_GITHUB_TOKEN: "bench-token",
  TASTER_GITHUB_API_URL: sim.url,
  TASTER_RECONCILE_INTERVAL_SEC: "0",
  TASTER_REDIS_PREFIX: ns,
  TASTER_BULL_PREFIX: `${ns}-bull`,
  TASTER_TRIGGERERS_FILE: "/nonexistent",
});
// Acknowledgements are paced as GitHub asks (1 s between writes, 3 s between notifying ones), exactly
// as in production: they run behind the 2xx and their backlog is reported, not waited for.
const forge = new GithubForge({ token: "bench-token", baseUrl: sim.url, botLogin: "taster-bot" });
const bridge = await createBridge(config, {
  forges: { github: forge },
  logger: createLogger("bench"),
  ...(INTAKE_CONCURRENCY ? { intake: { concurrency: INTAKE_CONCURRENCY } } : {}),
});
const bridgeUrl = `${await bridge.start()}/webhooks/github`;
const bare = await startBareHandler(SECRET);
const bareUrl = `${bare.url}/webhooks/github`;

let rssBefore = process.memoryUsage().rss;
let rssPeak = rssBefore;
const sampleRss = () => {
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
};

try {
  const expected = 25 + REQUESTS + RATE * RATE_SECONDS; // bridge-side warm-up, closed loop, paced
  const warm = makeDeliveries(50, total + 1, addComment);
  for (const d of warm.slice(0, 25)) await send(bareUrl, d);
  for (const d of warm.slice(25)) await send(bridgeUrl, d);
  rssBefore = process.memoryUsage().rss;

  const bareRps = await throughput(bareUrl, makeDeliveries(REQUESTS, 1, addComment));
  const sampler = setInterval(sampleRss, 100);
  const bridgeRps = await throughput(bridgeUrl, makeDeliveries(REQUESTS, REQUESTS + 1, addComment));
  clearInterval(sampler);

  const bareLatency = await paced(bareUrl, makeDeliveries(RATE * RATE_SECONDS, 1, addComment), () => {});
  const bridgeLatency = await paced(
    bridgeUrl,
    makeDeliveries(RATE * RATE_SECONDS, 2 * REQUESTS + 1, addComment),
    sampleRss,
  );
  // Processing (trust, head sha, enqueue) runs behind the 202s; time how long it takes to catch up.
  const answered = performance.now();
  const unprocessed = async () => {
    const counts = await bridge.intakeQueue.queue.getJobCounts("wait", "active", "delayed", "prioritized");
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  };
  const intakeBacklog = await unprocessed();
  await waitUntil(async () => (await unprocessed()) === 0, 300_000);
  const drainSeconds = (performance.now() - answered) / 1000;
  const jobs = await bridge.queues.queueFor("lab").count();
  const backlog = bridge.handler.pendingAcknowledgements;

  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const lines = [
    `bench/webhooks: ${REQUESTS} signed deliveries per side at concurrency ${CONCURRENCY}; ${RATE * RATE_SECONDS} paced at ${RATE} req/s`,
    `  throughput   bare verify-only ${bareRps.toFixed(0)} req/s   bridge ${bridgeRps.toFixed(0)} req/s   ratio ${(bridgeRps / bareRps).toFixed(2)} (target ≥ 0.50)`,
    `  at ${RATE} req/s  bare p50 ${ms(percentile(bareLatency, 50))} p99 ${ms(percentile(bareLatency, 99))}   bridge p50 ${ms(percentile(bridgeLatency, 50))} p99 ${ms(percentile(bridgeLatency, 99))} (target ≤ 20 ms)   p99 ratio ${(percentile(bridgeLatency, 99) / percentile(bareLatency, 99)).toFixed(1)}x`,
    `  rss          before load ${mb(rssBefore)}   peak under load ${mb(rssPeak)} (bench process: bridge + load generator; forge-sim runs in a child)`,
    `  processing   ${intakeBacklog} commands waiting when the last 202 went out; intake drained ${drainSeconds.toFixed(1)} s later`,
    `  jobs queued  ${jobs} of ${expected} (every delivery a new run on its own PR); acknowledgements still paced behind: ${backlog}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await bridge.queues.queueFor("lab").obliterate({ force: true });
  await bridge.intakeQueue.queue.obliterate({ force: true });
  const redis = (bridge.queues as unknown as { redis: Redis }).redis;
  for (const pattern of [`${ns}:*`, `${ns}-bull:*`]) {
    let cursor = "0";
    do {
      const [nextCursor, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = nextCursor;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  }
  await bridge.stop();
  await bare.close();
  await sim.close();
}
