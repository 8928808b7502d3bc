import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type ForgeSim, startForgeSim } from "@taster/forge-sim";
import { ensureLab } from "@taster/lab";
import type { Redis } from "@taster/queue";
import { type Bridge, loadBridgeConfig } from "../src/index";
import { type DashboardFixture, sampleResults, startDashboard } from "./dashboard-fixtures";
import { TOKEN, testBridge, testConfig, waitFor } from "./helpers";

// Issue 12, finding 6: live-log streams are unauthenticated, so what one costs must not grow with
// the number of viewers (one Redis reader per live run), and how many there are must be bounded.

/** A server-sent-events client as a browser's EventSource is, from a chosen local address. */
interface Stream {
  status: number;
  /** The body so far. */
  text: string;
  /** Resolves when the server has ended the response (or it failed). */
  ended: Promise<void>;
  close(): void;
}

function openStream(
  url: string,
  options: { lastEventId?: string; localAddress?: string } = {},
): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: {
        accept: "text/event-stream",
        ...(options.lastEventId ? { "last-event-id": options.lastEventId } : {}),
      },
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      agent: false,
    });
    req.once("error", reject);
    req.once("response", (res) => {
      const stream: Stream = {
        status: res.statusCode ?? 0,
        text: "",
        ended: new Promise((done) => {
          res.once("end", done);
          res.once("close", done);
          res.once("error", done);
        }),
        close: () => req.destroy(),
      };
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        stream.text += chunk;
      });
      resolve(stream);
    });
    req.end();
  });
}

/** Event ids in the order they arrived. */
const idsOf = (text: string) => [...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1] ?? "");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connections Redis holds for this run's live-log readers (they are named after the run). */
async function readersOf(redis: Redis, runId: string): Promise<number> {
  const list = String(await redis.client("LIST"));
  return list.split("\n").filter((line) => new RegExp(` name=\\S+:live-log:${runId} `).test(line)).length;
}

/** Counts the commands the dashboard sends on its shared connection (the readers have their own). */
function countCommands(redis: Redis): () => number {
  let count = 0;
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((...args: Parameters<Redis["sendCommand"]>) => {
    count += 1;
    return send(...args);
  }) as Redis["sendCommand"];
  return () => count;
}

describe("one Redis reader per live run", () => {
  let dash: DashboardFixture;
  beforeAll(async () => {
    dash = await startDashboard("fan-out", { liveLog: { maxPerAddress: 100 } });
  });
  afterAll(async () => {
    await dash?.close();
  });

  it("serves 50 clients of one run from one reader, each getting every line once, in order", async () => {
    const runId = await dash.seedRun({
      recipe: "fan-out",
      state: "running",
      log: Array.from({ length: 10 }, (_, i) => `line ${i}`),
    });
    const url = `${dash.url}/runs/${runId}/log`;
    const streams = await Promise.all(Array.from({ length: 50 }, () => openStream(url)));
    expect(streams.map((s) => s.status)).toEqual(streams.map(() => 200));
    await waitFor(
      async () => streams.every((s) => s.text.includes("data: line 9\n")),
      "every client's backlog",
    );

    // Following costs Redis the same with 50 clients as with one: one blocking reader, plus one
    // state check per quiet read (the old code polled twice per client every 100 ms: ~1000 here).
    const commands = countCommands(dash.redis);
    await sleep(1_000);
    expect(commands()).toBeLessThan(40);
    expect(await readersOf(dash.redis, runId)).toBe(1);

    for (let i = 10; i < 20; i++) await dash.queues.logs.appendLog(runId, `line ${i}`);
    // A client that comes back with an old Last-Event-ID while the run's reader is further on.
    const fourth = (await dash.queues.logs.readLog(runId))[4]?.id ?? "";
    const late = await openStream(url, { lastEventId: fourth });
    for (let i = 20; i < 30; i++) await dash.queues.logs.appendLog(runId, `line ${i}`);
    await dash.queues.runs.saveResult(runId, sampleResults("fan-out", 1), "failed");
    await Promise.all([...streams, late].map((s) => s.ended));

    const all = (await dash.queues.logs.readLog(runId)).map((e) => e.id);
    expect(all).toHaveLength(30);
    for (const s of streams) {
      expect(idsOf(s.text)).toEqual(all);
      expect(s.text).toMatch(/event: end\ndata: failed\n\n$/);
    }
    expect(idsOf(late.text)).toEqual(all.slice(5));
    expect(await readersOf(dash.redis, runId)).toBe(0);
  });
});

describe("a stream's maximum lifetime", () => {
  let dash: DashboardFixture;
  beforeAll(async () => {
    dash = await startDashboard("lifetime", { liveLog: { maxStreamMs: 600 } });
  });
  afterAll(async () => {
    await dash?.close();
  });

  it("closes a stream after it, and a reconnect with Last-Event-ID resumes without loss or repeat", async () => {
    const runId = await dash.seedRun({ recipe: "lifetime", state: "running", log: ["first"] });
    // The run writes a line every 50 ms for 2.5 s, then ends.
    const writer = (async () => {
      for (let i = 0; i < 50; i++) {
        await dash.queues.logs.appendLog(runId, `line ${i}`);
        await sleep(50);
      }
      await dash.queues.runs.saveResult(runId, sampleResults("lifetime", 1), "failed");
    })();
    const url = `${dash.url}/runs/${runId}/log`;
    const received: string[] = [];
    const durations: number[] = [];
    let ended = false;
    // As EventSource does: reconnect with the last id seen until the server says the run ended.
    for (let attempt = 0; attempt < 20 && !ended; attempt++) {
      const started = Date.now();
      const stream = await openStream(url, { lastEventId: received.at(-1) ?? "" });
      await stream.ended;
      durations.push(Date.now() - started);
      received.push(...idsOf(stream.text));
      ended = stream.text.includes("event: end\n");
    }
    await writer;
    expect(ended).toBe(true);
    // The first stream was closed by its lifetime (600 ms ± 10 %), long before the run ended.
    expect(durations[0]).toBeLessThan(1_500);
    expect(durations.length).toBeGreaterThanOrEqual(3);
    expect(received).toEqual((await dash.queues.logs.readLog(runId)).map((e) => e.id));
  });
});

describe("limits on open streams", () => {
  const ns = `live-limits-${process.pid}-${Date.now()}`;
  let sim: ForgeSim;
  let bridge: Bridge;
  let url: string;

  beforeAll(async () => {
    const { redisUrl } = await ensureLab();
    sim = await startForgeSim({ token: TOKEN, botLogin: "taster-bot" });
    const config = testConfig(sim, redisUrl, ns, {
      TASTER_BRIDGE_ROLE: "http",
      TASTER_LIVE_LOG_MAX_CLIENTS: "3",
      TASTER_LIVE_LOG_MAX_PER_ADDRESS: "2",
    });
    bridge = await testBridge(config, sim);
    url = await bridge.start();
  }, 60_000);

  afterAll(async () => {
    await bridge?.queues.queueFor("lab").obliterate({ force: true });
    await bridge?.stop();
    await sim?.close();
  });

  it("answers 429 over the per-address limit and 503 over the global one, with the reason, and frees places", async () => {
    const { runId } = await bridge.queues.enqueue({
      forge: "github",
      repo: "coop-cloud/limits",
      pr: 1,
      sha: "c".repeat(40),
      recipe: "limits",
      stages: ["install"],
      host: "lab",
      commentId: 1,
      deliveryId: `${ns}-1`,
      requestedBy: "maintainer",
      requestedAt: new Date().toISOString(),
    });
    const log = `${url}/runs/${runId}/log`;
    const a1 = await openStream(log, { localAddress: "127.0.0.1" });
    const a2 = await openStream(log, { localAddress: "127.0.0.1" });
    const a3 = await openStream(log, { localAddress: "127.0.0.1" });
    const b1 = await openStream(log, { localAddress: "127.0.0.2" });
    const c1 = await openStream(log, { localAddress: "127.0.0.3" });
    expect([a1.status, a2.status, a3.status, b1.status, c1.status]).toEqual([200, 200, 429, 200, 503]);
    await Promise.all([a3.ended, c1.ended]);
    expect(a3.text).toMatch(/too many live logs open from your address \(2, at most 2\)/);
    expect(c1.text).toMatch(/maximum of 3 live logs/);
    // A closed stream gives its place back.
    a1.close();
    await waitFor(
      async () =>
        (await openStream(log, { localAddress: "127.0.0.3" }).then((s) => {
          s.close();
          return s.status;
        })) === 200,
      "a freed place",
    );
    for (const s of [a2, b1]) s.close();
  });

  it("reads its limits and trusted proxies from the environment, refusing a bad proxy entry by name", () => {
    const base = { TASTER_GITHUB_WEBHOOK_SECRET: "s", TASTER_BRIDGE_ROLE: "http" };
    expect(loadBridgeConfig(base)).toMatchObject({
      liveLog: { maxClients: 1_000, maxPerAddress: 20, maxStreamSec: 600 },
      trustProxy: [],
    });
    expect(loadBridgeConfig({ ...base, TASTER_TRUST_PROXY: "uniquelocal, 10.0.0.0/8" }).trustProxy).toEqual([
      "uniquelocal",
      "10.0.0.0/8",
    ]);
    expect(() => loadBridgeConfig({ ...base, TASTER_TRUST_PROXY: "everyone" })).toThrow(/TASTER_TRUST_PROXY/);
  });
});
