import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Redactor } from "@taster/core";
import { escapeHtml } from "../src/dashboard/index";
import { type DashboardFixture, sampleResults, startDashboard } from "./dashboard-fixtures";

const HOSTILE = `<script>alert("owned")</script>`;
let dash: DashboardFixture;

beforeAll(async () => {
  dash = await startDashboard("http");
});

afterAll(async () => {
  await dash?.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${dash.url}${path}`, { headers });

/** A failed run whose test names, failure text, reasons, requester and log lines are all hostile. */
async function hostileRun(state: "running" | "failed") {
  const results = sampleResults("hostile", 1, {
    upgrade: {
      status: "fail",
      reason: `reason ${HOSTILE}`,
      tests: [
        {
          file: `upgrade${HOSTILE}.test.ts`,
          name: `keeps data ${HOSTILE}`,
          status: "fail",
          durationMs: 10,
          failure: `expected <b>1</b>\n${HOSTILE}`,
        },
      ],
    },
  });
  return dash.seedRun({
    recipe: "hostile",
    state,
    results,
    requestedBy: `<img src=x onerror=alert(1)>`,
    log: [`deploy: ${HOSTILE}`, `line with "quotes" & ampersands`],
  });
}

describe("escaping", () => {
  it("renders hostile test names, reasons, requesters and log lines as text, never as markup", async () => {
    const runId = await hostileRun("failed");
    const body = await (await get(`/runs/${runId}`)).text();
    expect(body).toContain("keeps data &lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;");
    expect(body).toContain("deploy: &lt;script&gt;");
    expect(body).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(body).toContain("&amp; ampersands");
    // A finished run needs no script at all: nothing in the page is executable.
    expect(body).not.toMatch(/<script/i);
    expect(body).not.toContain("<img");
  });

  it("keeps the only script on a live run page the dashboard's own log follower", async () => {
    const runId = await hostileRun("running");
    const body = await (await get(`/runs/${runId}`)).text();
    expect(body.match(/<script/gi)).toHaveLength(1);
    expect(body).toContain("new EventSource(pre.dataset.stream)");
    expect(body).not.toContain(HOSTILE);
  });

  it("escapes hostile values on the front page and the recipe page too", async () => {
    await hostileRun("failed");
    for (const path of ["/", "/recipes/hostile"]) {
      const body = await (await get(path)).text();
      expect(body).not.toContain("<img");
      expect(body).not.toMatch(/<script/i);
    }
  });
});

describe("redaction", () => {
  it('redacts a secret holding <, &, " and > before escaping, in pages, results.json and logs', async () => {
    const secret = `t0k<&">en-${Date.now()}`;
    const redactor = new Redactor();
    redactor.add(secret);
    const own = await startDashboard("redact", { redactor });
    try {
      const results = sampleResults("redact", 1, {
        upgrade: { status: "fail", reason: `auth with ${secret} refused`, tests: [] },
      });
      const runId = await own.seedRun({
        recipe: "redact",
        state: "failed",
        results,
        requestedBy: `user ${secret}`,
        log: [`token=${secret}`],
      });
      const escaped = escapeHtml(secret);
      for (const path of [`/runs/${runId}`, "/", "/recipes/redact"]) {
        const body = await (await fetch(`${own.url}${path}`)).text();
        expect(body).not.toContain(escaped);
        expect(body).not.toContain(secret);
      }
      const page = await (await fetch(`${own.url}/runs/${runId}`)).text();
      expect(page).toContain("auth with [redacted] refused");
      expect(page).toContain("token=[redacted]");
      const json = await (await fetch(`${own.url}/runs/${runId}/results.json`)).text();
      expect(json).not.toContain(JSON.stringify(secret).slice(1, -1));
      expect(JSON.parse(json).tiers.upgrade.reason).toBe("auth with [redacted] refused");
      for (const path of [`/runs/${runId}/log.txt`, `/runs/${runId}/log`]) {
        const text = await (
          await fetch(`${own.url}${path}`, { headers: { accept: "text/event-stream" } })
        ).text();
        expect(text).toContain("token=[redacted]");
        expect(text).not.toContain(secret);
      }
    } finally {
      await own.close();
    }
  });
});

describe("not found", () => {
  it("answers 404 with a page for unknown and malformed run ids", async () => {
    for (const id of ["no-such-run-123", "..%2F..%2Fetc%2Fpasswd", "UPPER%3Ckey%3E"]) {
      const res = await get(`/runs/${id}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/text\/html/);
      const body = await res.text();
      expect(body).toContain("Not found");
      expect(body).not.toContain("<key>");
    }
  });

  it("answers 404 for the results, log and stream of an unknown run and for an unknown recipe", async () => {
    for (const path of [
      "/runs/nope-1/results.json",
      "/runs/nope-1/log.txt",
      "/runs/nope-1/log",
      "/recipes/never-tested",
    ]) {
      expect((await get(path, { accept: "text/event-stream" })).status).toBe(404);
    }
  });

  it("answers 404 for results.json while a run has no results yet", async () => {
    const runId = await dash.seedRun({ recipe: "pending", state: "running" });
    const res = await get(`/runs/${runId}/results.json`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ state: "running" });
  });
});

describe("run data", () => {
  it("serves results.json and the full log of a finished run", async () => {
    const results = sampleResults("served", 3);
    const runId = await dash.seedRun({ recipe: "served", state: "done", results, log: ["one", "two"] });
    const json = await get(`/runs/${runId}/results.json`);
    expect(json.headers.get("content-type")).toMatch(/application\/json/);
    expect(await json.json()).toEqual(results);
    const text = await get(`/runs/${runId}/log.txt`);
    expect(text.headers.get("content-type")).toMatch(/text\/plain/);
    expect(await text.text()).toBe("one\ntwo\n");
    // The "full log" link in PR comments points at /log: a browser gets the text, not an event stream.
    expect(await (await get(`/runs/${runId}/log`, { accept: "text/html,*/*" })).text()).toBe("one\ntwo\n");
  });

  it("shows the lint row before install, its findings with their rule, and the fresh row last", async () => {
    const results = sampleResults(
      "linted",
      3,
      {},
      {
        lint: {
          status: "pass",
          reason: "1 warning(s)",
          tests: [],
          timings: { hookMs: 0, opMs: 0, assertMs: 0, totalMs: 900 },
          findings: [
            {
              check: "version-label",
              severity: "warning",
              message: "no service has the label <coop-cloud.STACK.version>",
              source: "abra reads the deployed version",
            },
          ],
        },
        fresh: {
          status: "pass",
          reason: "the head installed from scratch",
          tests: [],
          timings: { hookMs: 0, opMs: 0, assertMs: 0, totalMs: 20_000 },
        },
      },
    );
    const runId = await dash.seedRun({ recipe: "linted", state: "done", results });
    const page = await (await get(`/runs/${runId}`)).text();
    const rows = [...page.matchAll(/<tr data-tier="([a-z]+)"/g)].map((m) => m[1]);
    expect(rows).toEqual(["lint", "install", "upgrade", "backup", "restore", "custom", "fresh"]);
    expect(page).toContain("<h2>Lint (1)</h2>");
    expect(page).toContain("no service has the label &lt;coop-cloud.STACK.version&gt;");
  });

  it("streams a finished run's log as server-sent events, resumes after Last-Event-ID, and ends", async () => {
    const runId = await dash.seedRun({
      recipe: "sse",
      state: "done",
      log: ["first", "second\nwrapped", "third"],
    });
    const all = await (await get(`/runs/${runId}/log`, { accept: "text/event-stream" })).text();
    expect(all).toMatch(/data: first\n\n/);
    expect(all).toMatch(/data: second\ndata: wrapped\n\n/);
    expect(all.trimEnd()).toMatch(/event: end\ndata: done$/);
    const firstId = /id: (\S+)\ndata: first/.exec(all)?.[1] ?? "";
    const resumed = await (
      await get(`/runs/${runId}/log`, { accept: "text/event-stream", "last-event-id": firstId })
    ).text();
    expect(resumed).not.toContain("data: first");
    expect(resumed).toContain("data: third");
  });
});

describe("run states", () => {
  it("says a superseded run will get no verdict and links to the run that replaced it", async () => {
    const request = {
      forge: "github" as const,
      repo: "coop-cloud/superseded",
      pr: 77,
      recipe: "superseded",
      stages: ["install" as const],
      host: "lab",
      requestedBy: "maintainer",
      requestedAt: new Date().toISOString(),
    };
    const old = await dash.queues.enqueue({
      ...request,
      sha: "a".repeat(40),
      commentId: 7701,
      deliveryId: "s-1",
    });
    const newer = await dash.queues.enqueue({
      ...request,
      sha: "b".repeat(40),
      commentId: 7702,
      deliveryId: "s-2",
    });
    expect(newer.superseded).toBe(old.runId);
    const body = await (await get(`/runs/${old.runId}`)).text();
    expect(body).toContain("Superseded by a newer commit");
    expect(body).toContain(`<a href="/runs/${newer.runId}">${newer.runId}</a>`);
    expect(body).not.toMatch(/<script/i);
  });
});

describe("queue and history", () => {
  it("lists waiting runs per host with their positions and recent runs with their level", async () => {
    const first = await dash.seedRun({ recipe: "waiting-a", state: "queued" });
    const second = await dash.seedRun({ recipe: "waiting-b", state: "queued" });
    const finished = await dash.seedRun({
      recipe: "leveled",
      state: "done",
      results: sampleResults("leveled", 3),
    });
    const body = await (await get("/")).text();
    const positions = [...body.matchAll(/<tr data-run="([^"]+)">\s*<td>(\d+)<\/td>/g)].map((m) => [
      m[1],
      m[2],
    ]);
    const a = positions.find(([id]) => id === first)?.[1];
    const b = positions.find(([id]) => id === second)?.[1];
    expect(Number(b)).toBe(Number(a) + 1);
    expect(body).toMatch(new RegExp(`data-run="${finished}">[\\s\\S]*?>L3</span>`));
  });

  it("says next to `failed` which tier failed, on the front page and the recipe page", async () => {
    const atUpgrade = await dash.seedRun({
      recipe: "tier-named",
      state: "failed",
      results: sampleResults("tier-named", 1, {
        upgrade: { status: "fail", reason: "1 assertion(s) failed" },
        backup: { status: "skip", reason: "not run: upgrade failed", tests: [] },
      }),
    });
    const errored = await dash.seedRun({
      recipe: "tier-named",
      state: "failed",
      results: sampleResults("tier-named", 0, {}, { outcome: "error", error: "docker host unreachable" }),
    });
    // The row in the runs table (a seeded run's job also sits in the host's queue table).
    const rowOf = (body: string, runId: string) =>
      body
        .slice(body.indexOf('<table class="runs">'))
        .match(new RegExp(`<tr data-run="${runId}">[\\s\\S]*?</tr>`))?.[0] ?? "";
    for (const path of ["/", "/recipes/tier-named"]) {
      const body = await (await get(path)).text();
      const row = rowOf(body, atUpgrade).replace(/<[^>]+>/g, "");
      expect(row).toMatch(/failed at upgrade\s+L1/);
      expect(rowOf(body, errored).replace(/<[^>]+>/g, "")).toContain("failed infrastructure error");
    }
  });

  it("shows a recipe's history with a level sparkline", async () => {
    for (const level of [1, 2, 3]) {
      await dash.seedRun({ recipe: "climbing", state: "failed", results: sampleResults("climbing", level) });
    }
    const body = await (await get("/recipes/climbing")).text();
    expect(body).toContain("Runs (3)");
    expect(body).toContain('class="sparkline"');
    expect(body.match(/<circle /g)).toHaveLength(3);
    expect(body).toContain(`https://taster.test/badges/climbing.svg`);
  });
});

describe("badges", () => {
  const COLOURS = ["#e05d44", "#fe7d37", "#dfb317", "#97ca00", "#44cc11"];

  it("shows the latest level, coloured from red (L0) to bright green (L4)", async () => {
    for (const level of [0, 1, 2, 3, 4]) {
      const recipe = `badge-l${level}`;
      await dash.seedRun({ recipe, state: "failed", results: sampleResults(recipe, level) });
      const res = await get(`/badges/${recipe}.svg`);
      expect(res.headers.get("content-type")).toMatch(/image\/svg\+xml/);
      expect(res.headers.get("cache-control")).toMatch(/max-age=60/);
      const svg = await res.text();
      expect(svg).toContain(`>L${level}</text>`);
      expect(svg).toContain(`fill="${COLOURS[level]}"`);
    }
  });

  it("is grey for a recipe with only a run in progress or no runs at all", async () => {
    await dash.seedRun({ recipe: "badge-running", state: "running" });
    const running = await (await get("/badges/badge-running.svg")).text();
    expect(running).toContain(">running</text>");
    expect(running).toContain('fill="#9f9f9f"');
    const none = await get("/badges/never-ran.svg");
    expect(none.status).toBe(200);
    expect(await none.text()).toContain(">no runs</text>");
  });

  it("keeps the last verdict's level when a newer run errored on the infrastructure", async () => {
    await dash.seedRun({ recipe: "badge-infra", state: "done", results: sampleResults("badge-infra", 3) });
    const errored = sampleResults("badge-infra", 0, {}, { outcome: "error", error: "engine unreachable" });
    await dash.seedRun({ recipe: "badge-infra", state: "failed", results: errored });
    expect(await (await get("/badges/badge-infra.svg")).text()).toContain(">L3</text>");
  });
});

describe("live log stream", () => {
  /** Reads a streamed body until `text` has arrived (or the stream ends), returning everything so far. */
  async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, seen: string[], text: string) {
    const decoder = new TextDecoder();
    while (!seen.join("").includes(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen.push(decoder.decode(value, { stream: true }));
    }
    return seen.join("");
  }

  it("follows a running run as lines arrive and ends with the run", async () => {
    const runId = await dash.seedRun({ recipe: "follow", state: "running", log: ["a"] });
    const res = await get(`/runs/${runId}/log`, { accept: "text/event-stream" });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const seen: string[] = [];
    expect(await readUntil(reader, seen, "data: a\n")).toContain("data: a\n");
    await dash.queues.logs.appendLog(runId, "b");
    expect(await readUntil(reader, seen, "data: b\n")).toContain("data: b\n");
    await dash.queues.logs.appendLog(runId, "last");
    await dash.queues.runs.saveResult(runId, sampleResults("follow", 1), "failed");
    const all = await readUntil(reader, seen, "event: end");
    expect(all.indexOf("data: last")).toBeLessThan(all.indexOf("event: end\ndata: failed"));
    expect((await reader.read()).done).toBe(true);
  });

  it("ends open streams when the server's shutdown signal fires", async () => {
    const shutdown = new AbortController();
    const other = await startDashboard("abort", { signal: shutdown.signal });
    try {
      const runId = await other.seedRun({ recipe: "forever", state: "running", log: ["still going"] });
      const res = await fetch(`${other.url}/runs/${runId}/log`, { headers: { accept: "text/event-stream" } });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await readUntil(reader, [], "still going");
      shutdown.abort();
      let done = false;
      while (!done) done = (await reader.read()).done;
      expect(done).toBe(true);
    } finally {
      await other.close();
    }
  });
});
