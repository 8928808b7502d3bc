import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type ForgeSim, startForgeSim } from "@taster/forge-sim";
import { ensureLab } from "@taster/lab";
import type { Bridge } from "../src/index";
import { TOKEN, testBridge, testConfig } from "./helpers";

// Issue 12, finding 6: the event header is read before the signature is checked, so it must
// never become a label value as sent.
const ns = `metrics-${process.pid}-${Date.now()}`;
let sim: ForgeSim;
let bridge: Bridge;
let url: string;

beforeAll(async () => {
  const { redisUrl } = await ensureLab();
  sim = await startForgeSim({ token: TOKEN, botLogin: "taster-bot" });
  bridge = await testBridge(testConfig(sim, redisUrl, ns, { TASTER_BRIDGE_ROLE: "http" }), sim);
  url = await bridge.start();
}, 60_000);

afterAll(async () => {
  await bridge?.stop();
  await sim?.close();
});

/** An unsigned delivery with a made-up event name, as anyone on the internet can send. */
async function unsigned(event: string): Promise<number> {
  const res = await fetch(`${url}/webhooks/github`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": randomBytes(8).toString("hex"),
      "x-hub-signature-256": "sha256=00",
    },
    body: "{}",
  });
  await res.text();
  return res.status;
}

const metricLines = async () => (await (await fetch(`${url}/metrics`)).text()).split("\n");
const tasterLines = (lines: string[]) => lines.filter((l) => l.startsWith("taster_"));

/** How many series each metric family has (a histogram's buckets count as its own series). */
function seriesPerFamily(lines: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    if (line === "" || line.startsWith("#")) continue;
    const family = (line.split(/[{ ]/, 1)[0] ?? "").replace(/_(bucket|sum|count)$/, "");
    counts.set(family, (counts.get(family) ?? 0) + 1);
  }
  return counts;
}

/** The families that gained at least `atLeast` series between two scrapes. */
function grownFamilies(before: string[], after: string[], atLeast: number): string[] {
  const was = seriesPerFamily(before);
  return [...seriesPerFamily(after)]
    .filter(([family, n]) => n - (was.get(family) ?? 0) >= atLeast)
    .map(([family, n]) => `${family}: ${was.get(family) ?? 0} → ${n}`);
}

describe("/metrics under unsigned traffic", () => {
  it("keeps the same number of lines after 300 unsigned requests with random event names", async () => {
    // The first refused delivery creates its series ("other", "bad-signature") once.
    expect(await unsigned(`warm-up-${randomBytes(4).toString("hex")}`)).toBe(401);
    const before = await metricLines();
    for (let i = 0; i < 300; i++) expect(await unsigned(`evil-${randomBytes(6).toString("hex")}`)).toBe(401);
    const after = await metricLines();
    expect(tasterLines(after)).toHaveLength(tasterLines(before).length);
    // Node's own metrics may gain a label value meanwhile (a new GC kind adds one histogram, about
    // a dozen series); a family keyed by the request would gain one per request: 300.
    expect(grownFamilies(before, after, 30)).toEqual([]);
    expect(after.join("\n")).toMatch(
      /taster_webhook_deliveries_total\{forge="github",event="other",outcome="bad-signature"\} 301/,
    );
    expect(after.join("\n")).not.toContain("evil-");
  });

  it("still counts known events under their own name", async () => {
    expect(await unsigned("issue_comment")).toBe(401);
    expect((await metricLines()).join("\n")).toContain(
      'taster_webhook_deliveries_total{forge="github",event="issue_comment",outcome="bad-signature"} 1',
    );
  });
});
