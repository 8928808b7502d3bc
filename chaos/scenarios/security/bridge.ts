/**
 * Unauthenticated traffic against the bridge (issue 12, finding 6): live-log viewers and unsigned
 * deliveries cost no one a login, so neither may grow the bridge or slow its webhook answers.
 *
 * This file is also the SSE client process of `sse-2000-clients` (run with `--sse-clients`): the
 * viewers live in a process of their own, so their parsing does not share the bridge's event loop
 * and the webhook latencies measured here are the bridge's.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { request } from "node:http";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { connectRedis } from "@taster/queue";
import { spawnWorker, stopWorker } from "../../child";
import { verdictOf } from "../../invariants";
import type { World } from "../../world";
import { COMMAND, type Scenario, tally } from "../scenario";
import { unsignedFlood } from "./flood";
import { backSeat, ms, p99, paced, sleep, WEBHOOK_RATE } from "./load";

const SSE_CLIENTS = 2_000;
/** Webhook answers (and /healthz) must stay within this, p99, while the viewers follow the run. */
const P99_BUDGET_MS = 20;

// ---------------------------------------------------------------------------------------------
// Measuring

/** The share of the bridge's own handling-time histogram within 20 ms, between two /metrics reads. */
async function serverHistogram(bridgeUrl: string): Promise<{ within: number; count: number }> {
  const text = await (await fetch(`${bridgeUrl}/metrics`)).text();
  const read = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    within: read(/^taster_webhook_handling_seconds_bucket\{le="0\.02",forge="github"\} (\d+)/m),
    count: read(/^taster_webhook_handling_seconds_count\{forge="github"\} (\d+)/m),
  };
}

// ---------------------------------------------------------------------------------------------
// The viewers' process

/** What the parent asks of the viewers' process: one viewer per local address, opened in order. */
interface ViewerPlan {
  url: string;
  addresses: string[];
}

interface Viewer {
  ids: number;
  hash: ReturnType<typeof createHash>;
  lastId: string;
  end: string;
}

/** Opens one stream (as EventSource does, resuming after `lastId`) and feeds `viewer` until it closes. */
function follow(
  url: string,
  address: string,
  viewer: Viewer | undefined,
): Promise<{ status: number; body: string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      localAddress: address,
      agent: false,
      headers: { accept: "text/event-stream", ...(viewer?.lastId ? { "last-event-id": viewer.lastId } : {}) },
    });
    req.once("error", reject);
    req.once("response", (res) => {
      res.setEncoding("utf8");
      let body = "";
      let pending = "";
      const closed = new Promise<void>((done) => res.once("close", done));
      if (res.statusCode !== 200) {
        // A refusal: its reason is the body.
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        void closed.then(() => resolve({ status: res.statusCode ?? 0, body, closed }));
        return;
      }
      res.on("data", (chunk: string) => {
        if (!viewer) return;
        pending += chunk;
        let cut = pending.indexOf("\n\n");
        while (cut >= 0) {
          const event = pending.slice(0, cut);
          pending = pending.slice(cut + 2);
          const id = /^id: (\S+)$/m.exec(event)?.[1];
          if (id) {
            viewer.ids += 1;
            viewer.hash.update(`${id}\n`);
            viewer.lastId = id;
          }
          const end = /^event: end\ndata: (\S+)$/m.exec(event)?.[1];
          if (end) viewer.end = end;
          cut = pending.indexOf("\n\n");
        }
      });
      resolve({ status: res.statusCode ?? 0, body, closed });
    });
    req.end();
  });
}

async function viewersProcess(): Promise<void> {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const plan = JSON.parse(input) as ViewerPlan;
  const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
  const statuses: number[] = [];
  const reasons = new Map<number, string>();
  const following: Promise<void>[] = [];
  const viewers: Viewer[] = [];
  for (const address of plan.addresses) {
    const viewer: Viewer = { ids: 0, hash: createHash("sha1"), lastId: "", end: "" };
    const first = await follow(plan.url, address, viewer).catch(() => ({
      status: 0,
      body: "",
      closed: Promise.resolve(),
    }));
    statuses.push(first.status);
    if (first.status !== 200) {
      if (!reasons.has(first.status)) reasons.set(first.status, first.body.trim());
      continue;
    }
    viewers.push(viewer);
    // Until the run's end arrives: a stream closed without it is resumed, as a browser would.
    following.push(
      (async () => {
        let stream = first;
        for (let attempt = 0; attempt < 50; attempt++) {
          await stream.closed;
          if (viewer.end) return;
          await sleep(200);
          stream = await follow(plan.url, address, viewer).catch(() => ({
            status: 0,
            body: "",
            closed: Promise.resolve(),
          }));
        }
      })(),
    );
  }
  say({ phase: "opened", statuses, reasons: Object.fromEntries(reasons) });
  await Promise.all(following);
  const outcomes = viewers.map((v) => `${v.ids}:${v.hash.digest("hex").slice(0, 12)}:${v.end || "no end"}`);
  say({ phase: "done", outcomes });
  process.exit(0);
}

/** Starts the viewers' process; resolves with it once every viewer has had its answer. */
async function startViewers(plan: ViewerPlan): Promise<{
  child: ChildProcess;
  opened: { statuses: number[]; reasons: Record<string, string> };
  done: Promise<{ outcomes: string[] }>;
}> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "--sse-clients"],
    {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, NODE_OPTIONS: "" },
    },
  );
  backSeat(child);
  child.stdin?.end(JSON.stringify(plan));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let opened: (value: { statuses: number[]; reasons: Record<string, string> }) => void = () => {};
  let finished: (value: { outcomes: string[] }) => void = () => {};
  const openedP = new Promise<{ statuses: number[]; reasons: Record<string, string> }>((resolve, reject) => {
    opened = resolve;
    child.once("exit", (code) => reject(new Error(`the viewers' process exited early (${code})`)));
  });
  const done = new Promise<{ outcomes: string[] }>((resolve, reject) => {
    finished = resolve;
    child.once("exit", (code) =>
      setTimeout(() => reject(new Error(`the viewers' process exited (${code})`)), 100),
    );
  });
  // Awaited only on the happy path; a killed process must not leave an unhandled rejection.
  done.catch(() => {});
  lines.on("line", (line) => {
    const message = JSON.parse(line) as { phase: string };
    if (message.phase === "opened") opened(message as never);
    if (message.phase === "done") finished(message as never);
  });
  return { child, opened: await openedP, done };
}

if (process.argv[2] === "--sse-clients" && import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await viewersProcess();
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** Connections Redis holds for the run's live-log readers (they are named after the run). */
async function liveReaders(world: World, runId: string): Promise<number> {
  const redis = connectRedis(world.stack.lab.redisUrl);
  try {
    await new Promise((resolve, reject) => {
      redis.once("ready", resolve);
      redis.once("error", reject);
    });
    const list = String(await redis.client("LIST"));
    return list.split("\n").filter((line) => line.includes(`:live-log:${runId} `)).length;
  } finally {
    redis.disconnect();
  }
}

/** Viewers: `maxPerAddress` from each address up to the global cap, one more from a full address, the rest from fresh ones. */
function viewerAddresses(maxClients: number, maxPerAddress: number) {
  const full = Array.from({ length: Math.ceil(maxClients / maxPerAddress) }, (_, i) => `127.0.1.${i + 1}`);
  const admitted = full.flatMap((a) => Array.from({ length: maxPerAddress }, () => a)).slice(0, maxClients);
  const over = Array.from(
    { length: Math.max(0, SSE_CLIENTS - admitted.length - 1) },
    (_, i) => `127.0.${2 + Math.floor(i / 200)}.${(i % 200) + 1}`,
  );
  const addresses = [...admitted, full[0] ?? "127.0.1.1", ...over];
  const expected = [
    ...admitted.map(() => 200),
    ...(admitted.length < SSE_CLIENTS ? [429] : []),
    ...over.map(() => 503),
  ];
  return { addresses, expected, admitted: admitted.length };
}

/** A worker process takes the PR's queued run; the webhooks are paced until its verdict. */
async function measuredRun(world: World, comment: { id: number; pr: number }) {
  const worker = await spawnWorker(await world.childConfig(0));
  // The run is what is watched, not what is measured: it yields like the viewers do.
  backSeat(worker);
  try {
    let finished = false;
    const verdict = verdictOf(world, 300_000, comment.pr).finally(() => {
      finished = true;
    });
    const load = await paced(world, comment, () => finished);
    return { load, state: await verdict };
  } finally {
    await stopWorker(worker);
  }
}

const sse2000: Scenario = {
  id: "sse-2000-clients",
  did: `${SSE_CLIENTS} live-log viewers (~1000 loopback addresses, a process of their own) open on a queued run's log and follow it to the end, while signed webhooks arrive at ${WEBHOOK_RATE}/s; the same run of another PR before, without viewers, is the baseline`,
  expected: `viewers within the caps get every line once and the end; the rest 429/503 with a reason; one Redis reader; webhook and /healthz p99 ≤ ${P99_BUDGET_MS} ms (on a machine too busy for that without viewers: ≤ 2× the baseline's)`,
  expect: { verdicts: 1, prs: 2 },
  world: { externalWorkers: true },
  async run(world) {
    const problems: string[] = [];
    const { bridge, bridgeUrl } = world.stack;
    const testme = async (pr: number) => {
      const id = world.addComment(COMMAND, pr);
      const answer = await world.deliver(id, COMMAND, `sse-${world.tag}-${pr}`, pr);
      if (answer.status !== 202) problems.push(`the !testme on #${pr} was answered ${answer.status}`);
      await world.settled();
      return { id, pr };
    };

    // The baseline: PR #2's run at the same sha, the same webhooks, no viewer.
    await world.setHead(2, world.sha);
    const baseline = await measuredRun(world, await testme(2));

    // PR #1's run, queued with no worker, gets its viewers first; then it goes.
    const comment = await testme(1);
    const run = (await world.stack.worker.runs.listRuns(10)).find((r) => r.job.pr === 1);
    if (!run) return { observed: "no run was queued for #1", problems: [...problems, "no run for #1"] };
    const plan = viewerAddresses(bridge.config.liveLog.maxClients, bridge.config.liveLog.maxPerAddress);
    const viewers = await startViewers({
      url: `${bridgeUrl}/runs/${run.runId}/log`,
      addresses: plan.addresses,
    });
    try {
      const readers = await liveReaders(world, run.runId);
      const server0 = await serverHistogram(bridgeUrl);
      const { load: during, state } = await measuredRun(world, comment);
      const server1 = await serverHistogram(bridgeUrl);
      const { outcomes } = await Promise.race([
        viewers.done,
        sleep(60_000).then(() => ({ outcomes: ["viewers still open 60 s after the run ended"] })),
      ]);

      const got = viewers.opened.statuses;
      if (got.join() !== plan.expected.join())
        problems.push(`viewers answered ${tally(got)}, expected ${tally(plan.expected)}`);
      for (const [status, reason] of Object.entries(viewers.opened.reasons))
        if (!reason) problems.push(`a ${status} came without a reason`);
      const lines = await world.stack.worker.logs.readLog(run.runId, undefined, 100_000);
      const hash = createHash("sha1");
      for (const line of lines) hash.update(`${line.id}\n`);
      const whole = `${lines.length}:${hash.digest("hex").slice(0, 12)}:${state}`;
      const wrong = outcomes.filter((o) => o !== whole);
      if (outcomes.length !== plan.admitted)
        problems.push(`${outcomes.length} viewers finished, not ${plan.admitted}`);
      if (wrong.length)
        problems.push(
          `${wrong.length} viewers did not get every line and the end (${tally(wrong).slice(0, 120)})`,
        );
      if (readers !== 1) problems.push(`${readers} Redis readers for the followed run, not 1`);

      // Where the machine is too busy to keep the budget even without viewers, the viewers may at
      // most double the tail (the old per-viewer polling took /healthz from 2 ms to 12 s).
      const check = (what: string, withViewers: number[], without: number[]) => {
        const budget = Math.max(P99_BUDGET_MS, 2 * p99(without));
        if (p99(withViewers) > budget) problems.push(`${what} p99 ${ms(p99(withViewers))} > ${ms(budget)}`);
      };
      check("webhook", during.webhook, baseline.load.webhook);
      check("/healthz", during.healthz, baseline.load.healthz);
      const bad = [...baseline.load.statuses, ...during.statuses].filter((s) => s !== 202 && s !== 200);
      if (bad.length) problems.push(`${bad.length} answers were not 2xx (${tally(bad)})`);
      const served = server1.count - server0.count;
      const within = served ? ((server1.within - server0.within) / served) * 100 : 0;
      return {
        observed: `viewers ${tally(got)}; ${outcomes.length - wrong.length}/${plan.admitted} got all ${lines.length} lines + end; ${readers} reader; with viewers: ${during.webhook.length} webhooks p99 ${ms(p99(during.webhook))}, /healthz p99 ${ms(p99(during.healthz))}, server ≤ 20 ms ${within.toFixed(2)} %, event loop p99 ${ms(during.loopDelayP99)}; baseline run: webhooks p99 ${ms(p99(baseline.load.webhook))}, /healthz ${ms(p99(baseline.load.healthz))}, event loop ${ms(baseline.load.loopDelayP99)}; runs ${baseline.state}/${state}`,
        problems,
      };
    } finally {
      viewers.child.kill();
    }
  },
};

export const SCENARIOS: Scenario[] = [sse2000, unsignedFlood];
