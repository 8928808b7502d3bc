import { afterEach, describe, expect, test } from "@jest/globals";
import { TIERS } from "@taster/core";
import { stackOf } from "../src/index";
import { latestStatuses, residue, startEnv, stickies, type TestEnv, waitFor } from "./env";
import { results as fixtureResults } from "./fixtures";

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const finished = (env: TestEnv, runId: string) => async () => {
  const run = await env.queues.runs.getRun(runId);
  return run && ["done", "failed", "cancelled"].includes(run.state) ? run : undefined;
};

describe("worker on the lab swarm", () => {
  test("a queued !testme ends as one final comment with the tier table, per-tier statuses, stored results, zero residue", async () => {
    env = await startEnv();
    const worker = env.worker();
    await worker.ready();
    const { runId } = await env.enqueue(env.prHead, [...TIERS]);
    const run = await waitFor("the run to finish", finished(env, runId), 150_000);
    expect(run.state).toBe("done");
    expect(await worker.outbox.drained(runId, 20_000)).toBe(true);

    const comments = stickies(env);
    expect(comments).toHaveLength(1);
    const body = comments[0]?.body ?? "";
    expect(body).toContain("passed, level L4");
    // Each tier that deployed names what: install the upgrade base, upgrade the PR head over it.
    expect(body).toMatch(/\| install \(\d+\.\d+\.\d+\+[\d.]+\) \| ✅ pass \| \d+\/\d+ \|/);
    expect(body).toMatch(/\| upgrade \(→ head [0-9a-f]{7,}\) \| ✅ pass \|/);
    expect(body).toMatch(/\| restore \| ✅ pass \|/);
    expect(body).toContain(`https://taster.test/runs/${runId}/log`);
    expect(body).not.toContain("ghp_worker_test_token");

    const statuses = latestStatuses(env, env.prHead);
    expect(statuses.taster).toMatchObject({ state: "success", description: "passed, level L4" });
    for (const tier of TIERS) expect(statuses[`taster/${tier}`]?.state).toBe("success");

    const stored = run.result as { stack: string; outcome: string; flags: { deployCount: number } };
    expect(stored.outcome).toBe("pass");
    expect(stored.flags.deployCount).toBe(1);
    // Named from the PR's repo, exactly as the janitor names the stacks of running runs.
    expect(stored.stack).toBe(stackOf({ repo: env.repo, pr: 1, sha: env.prHead }));
    expect(await residue(env.lab, stored.stack)).toEqual([]);

    const log = await worker.logs.readLog(runId);
    expect(log.some((l) => l.line.includes("install › "))).toBe(true);
    expect(log.some((l) => l.line.includes("teardown: zero residue"))).toBe(true);
  }, 200_000);

  test("a newer sha while a run is in progress cancels and tears down the old run; the new one is reported", async () => {
    env = await startEnv();
    const e = env;
    const worker = e.worker();
    await worker.ready();
    const old = await e.enqueue(e.olderSha);
    // Wait until the old run is really deploying before the newer push arrives.
    await waitFor(
      "the old run to deploy",
      async () => (await worker.logs.readLog(old.runId)).some((l) => l.line.includes("install › ")),
      60_000,
    );
    const newer = await e.enqueue(e.prHead);
    expect(newer.superseded).toBe(old.runId);

    const oldRun = await waitFor("the old run to stop", finished(e, old.runId), 90_000);
    expect(oldRun.state).toBe("cancelled");
    const oldStack = (oldRun.result as { stack: string }).stack;
    expect(oldStack).not.toBe("");
    expect(await residue(e.lab, oldStack)).toEqual([]);

    const newRun = await waitFor("the new run to finish", finished(e, newer.runId), 120_000);
    expect(newRun.state).toBe("done");
    expect(await worker.outbox.drained(newer.runId, 20_000)).toBe(true);
    expect(await worker.outbox.drained(old.runId, 20_000)).toBe(true);

    const comments = stickies(e);
    expect(comments).toHaveLength(1);
    const body = comments[0]?.body ?? "";
    expect(body).toContain(e.prHead.slice(0, 10));
    expect(body).toContain("passed, level L1");
    expect(body).toContain(`Earlier run \`${old.runId}\``);
    expect(body).toContain("cancelled and torn down: superseded by this commit");
    expect(latestStatuses(e, e.olderSha).taster).toMatchObject({ state: "error" });
    expect(latestStatuses(e, e.olderSha).taster?.description).toContain("Superseded by a newer commit");
    expect(latestStatuses(e, e.prHead).taster?.state).toBe("success");
  }, 240_000);
});

describe("reporting through a forge outage", () => {
  test("the forge answering 502 for a while only delays the verdict: it arrives complete, once", async () => {
    env = await startEnv();
    const e = env;
    // A no-deploy run step: this test is about the road from results to the PR, not the swarm.
    const worker = e.worker({
      runStep: async () => fixtureResults({ sha: e.prHead, level: 4 }),
      reportBackoff: { baseMs: 250, maxMs: 2_000, attempts: 40 },
    });
    await worker.ready();
    // 8 s by default; TASTER_TEST_OUTAGE_MS=60000 reproduces the full minute of 502s.
    const outageMs = Number(process.env.TASTER_TEST_OUTAGE_MS ?? 8_000);
    e.sim.failNext({ status: 502, forMs: outageMs });
    const outageStarted = Date.now();
    const { runId } = await e.enqueue(e.prHead);
    const run = await waitFor("the run to finish", finished(e, runId), 20_000);
    // Results are stored before the forge hears about them.
    expect(run.state).toBe("done");
    expect(stickies(e)).toHaveLength(0);

    expect(await worker.outbox.drained(runId, outageMs + 30_000)).toBe(true);
    expect(Date.now() - outageStarted).toBeGreaterThanOrEqual(outageMs);
    expect(e.sim.calls.filter((c) => c.status === 502).length).toBeGreaterThan(1);
    const comments = stickies(e);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("passed, level L4");
    const statuses = latestStatuses(e, e.prHead);
    expect(Object.keys(statuses).sort()).toEqual(["taster", ...TIERS.map((t) => `taster/${t}`)].sort());
    expect(statuses.taster?.state).toBe("success");
  }, 180_000);

  test("infrastructure errors are retried with backoff and reported as such, never as a recipe failure", async () => {
    env = await startEnv();
    const e = env;
    let calls = 0;
    const worker = e.worker({
      runStep: async () => {
        calls++;
        return fixtureResults({
          sha: e.prHead,
          outcome: "error",
          level: 0,
          error: "Cannot connect to the Docker daemon",
        });
      },
      infraRetry: { baseMs: 100, maxMs: 200, attempts: 3 },
    });
    await worker.ready();
    const { runId } = await e.enqueue(e.prHead);
    await waitFor("the run to finish", finished(e, runId), 20_000);
    expect(await worker.outbox.drained(runId, 20_000)).toBe(true);
    expect(calls).toBe(3);
    const body = stickies(e)[0]?.body ?? "";
    expect(body).toContain("infrastructure error");
    expect(body).toContain("Cannot connect to the Docker daemon");
    expect(body).toContain("Tried 3 times");
    expect(latestStatuses(e, e.prHead).taster?.state).toBe("error");
  }, 60_000);

  test("a failing recipe is reported once and never retried", async () => {
    env = await startEnv();
    const e = env;
    let calls = 0;
    const worker = e.worker({
      runStep: async () => {
        calls++;
        return fixtureResults({ sha: e.prHead, outcome: "fail", level: 0 });
      },
    });
    await worker.ready();
    const { runId } = await e.enqueue(e.prHead);
    const run = await waitFor("the run to finish", finished(e, runId), 20_000);
    expect(await worker.outbox.drained(runId, 20_000)).toBe(true);
    expect(run.state).toBe("failed");
    expect(calls).toBe(1);
    expect(latestStatuses(e, e.prHead).taster?.state).toBe("failure");
  }, 60_000);
});
