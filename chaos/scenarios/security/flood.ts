/**
 * Unsigned deliveries flooding the bridge (issue 12, finding 6): each is refused, none grows the
 * bridge's metrics, and /healthz keeps answering meanwhile. This file is also the flood's own
 * process (run with `--flood`), so sending does not share the bridge's event loop.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Scenario, tally } from "../scenario";
import { backSeat, ms, p99, sleep } from "./load";

/** One unsigned delivery with a made-up event name, as anyone on the internet can send. */
function unsignedDelivery(url: string, agent?: Agent): Promise<number> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ zen: randomBytes(16).toString("hex") });
    const req = request(`${url}/webhooks/github`, {
      method: "POST",
      ...(agent ? { agent } : {}),
      headers: {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "x-github-event": `evil-${randomBytes(6).toString("hex")}`,
        "x-github-delivery": randomBytes(8).toString("hex"),
        "x-hub-signature-256": `sha256=${randomBytes(32).toString("hex")}`,
      },
    });
    req.once("error", () => resolve(0));
    req.once("response", (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.end(body);
  });
}

/** The flood's process: `count` unsigned deliveries, `concurrency` at a time; prints the statuses. */
async function floodProcess(): Promise<void> {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const { url, count, concurrency } = JSON.parse(input) as {
    url: string;
    count: number;
    concurrency: number;
  };
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses: number[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < count) {
        sent += 1;
        statuses.push(await unsignedDelivery(url, agent));
      }
    }),
  );
  process.stdout.write(`${JSON.stringify({ statuses })}\n`);
  process.exit(0);
}

if (process.argv[2] === "--flood" && import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await floodProcess();
}

/** Runs the flood in a process of its own (so the bridge's event loop is the bridge's); resolves with the statuses. */
function flood(url: string, count: number, concurrency: number): Promise<number[]> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--flood"], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  backSeat(child);
  child.stdin?.end(JSON.stringify({ url, count, concurrency }));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk) => {
      out += chunk;
    });
    child.once("exit", (code) => {
      try {
        resolve((JSON.parse(out) as { statuses: number[] }).statuses);
      } catch {
        reject(new Error(`the flood's process exited (${code}) without a result`));
      }
    });
  });
}

/** A metric line without its value: the series it belongs to. */
const seriesOf = (line: string) => line.replace(/ [^ ]+$/, "");

const FLOOD = 3_000;
/**
 * A closed-loop flood keeps the bridge busy by design, so "healthy" here is: every probe answered,
 * far within a forge's delivery timeout (GitHub: 10 s). The 20 ms budget is for paced load (above).
 */
const FLOOD_HEALTHZ_P99_MS = 250;

export const unsignedFlood: Scenario = {
  id: "unsigned-flood",
  did: `${FLOOD} unsigned deliveries with random X-GitHub-Event names, 16 at a time from another process, while /healthz is probed`,
  expected: `every one 401; /metrics the same size (no series from a request); /healthz 200 (p99 ≤ ${FLOOD_HEALTHZ_P99_MS} ms) meanwhile; /readyz 200 after`,
  expect: { verdicts: 0 },
  async run(world) {
    const problems: string[] = [];
    const { bridgeUrl } = world.stack;
    const metricLines = async () => (await (await fetch(`${bridgeUrl}/metrics`)).text()).split("\n");
    // A first flood creates the refusal's series once ("other", "bad-signature") and lets Node's
    // GC-kind histograms appear (a fixed set of process metrics, added on each kind's first GC).
    const warmUp = await flood(bridgeUrl, 500, 16);
    const before = await metricLines();
    const healthz: number[] = [];
    const probeStatuses: number[] = [];
    let flooding = true;
    const probe = (async () => {
      while (flooding) {
        const started = performance.now();
        const res = await fetch(`${bridgeUrl}/healthz`);
        await res.text();
        healthz.push(performance.now() - started);
        probeStatuses.push(res.status);
        await sleep(20);
      }
    })();
    const started = performance.now();
    const statuses = await flood(bridgeUrl, FLOOD, 16);
    const seconds = (performance.now() - started) / 1000;
    flooding = false;
    await probe;
    const after = await metricLines();
    const ready = await fetch(`${bridgeUrl}/readyz`);
    const old = new Set(before.map(seriesOf));
    const added = after.map(seriesOf).filter((series) => !old.has(series));
    const fromRequests = added.filter((series) => !series.startsWith("nodejs_gc_duration_seconds"));
    if ([...warmUp, ...statuses].some((s) => s !== 401)) problems.push(`answers ${tally(statuses)}`);
    if (fromRequests.length) problems.push(`${fromRequests.length} new series, e.g. ${fromRequests[0]}`);
    if (after.some((l) => l.includes("evil-"))) problems.push("an event name from a request became a label");
    const healthzP99 = p99(healthz);
    if (probeStatuses.some((s) => s !== 200)) problems.push(`/healthz answered ${tally(probeStatuses)}`);
    if (healthzP99 > FLOOD_HEALTHZ_P99_MS) problems.push(`/healthz p99 ${ms(healthzP99)} during the flood`);
    if (ready.status !== 200) problems.push(`/readyz answered ${ready.status}`);
    return {
      observed: `${statuses.length} answers ${tally(statuses)} in ${seconds.toFixed(1)} s; /metrics ${before.length} → ${after.length} lines (${added.length} new series${added.length ? `: ${added.length - fromRequests.length} Node GC-kind` : ""}); /healthz ${tally(probeStatuses)}, p99 ${ms(healthzP99)}; /readyz ${ready.status}`,
      problems,
    };
  },
};
