import { afterEach, describe, expect, test } from "@jest/globals";
import { latestStatuses, startEnv, stickies, type TestEnv, waitFor } from "./env";
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

describe("retries are BullMQ's; what a user sees of them", () => {
  test("a newer push while a run waits to retry an infrastructure error: the old run ends cancelled, never retried", async () => {
    env = await startEnv();
    const e = env;
    const calls: string[] = [];
    const worker = e.worker({
      runStep: async (opts) => {
        calls.push(opts.sha ?? "");
        return opts.sha === e.olderSha
          ? fixtureResults({
              sha: opts.sha,
              outcome: "error",
              level: 0,
              error: "Cannot connect to the Docker daemon",
            })
          : fixtureResults({ sha: opts.sha, level: 4 });
      },
      // Long enough that the newer push lands while the old run waits in BullMQ's delayed set.
      infraRetry: { baseMs: 4_000, maxMs: 4_000, attempts: 3 },
    });
    await worker.ready();
    const old = await e.enqueue(e.olderSha);
    await waitFor(
      "the old run to wait for its retry",
      async () => (await worker.logs.readLog(old.runId)).some((l) => l.line.includes("retrying in")),
      20_000,
    );
    const newer = await e.enqueue(e.prHead);
    expect(newer.superseded).toBe(old.runId);

    const newRun = await waitFor("the new run to finish", finished(e, newer.runId), 20_000);
    expect(newRun.state).toBe("done");
    const oldRun = await waitFor("the old run to end", finished(e, old.runId), 20_000);
    expect(oldRun.state).toBe("cancelled");
    expect(calls.filter((sha) => sha === e.olderSha)).toHaveLength(1);

    expect(await worker.outbox.drained(old.runId, 20_000)).toBe(true);
    expect(await worker.outbox.drained(newer.runId, 20_000)).toBe(true);
    expect(latestStatuses(e, e.olderSha).taster?.description).toContain("Superseded by a newer commit");
    const comments = stickies(e);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("passed, level L4");
  }, 150_000);

  test("a configuration error is reported once and never retried", async () => {
    env = await startEnv();
    const e = env;
    let calls = 0;
    const worker = e.worker({
      runStep: async () => {
        calls++;
        return fixtureResults({
          sha: e.prHead,
          outcome: "error",
          errorKind: "config",
          level: 0,
          error: "taster.yml: unknown key 'tiers'",
        });
      },
      infraRetry: { baseMs: 100, maxMs: 200, attempts: 3 },
    });
    await worker.ready();
    const { runId } = await e.enqueue(e.prHead);
    const run = await waitFor("the run to finish", finished(e, runId), 20_000);
    expect(await worker.outbox.drained(runId, 20_000)).toBe(true);
    // Settle: a retry, if any, would start within the 200 ms backoff.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(run.state).toBe("failed");
    expect(calls).toBe(1);
    expect(stickies(e)[0]?.body).toContain("configuration error");
    expect(latestStatuses(e, e.prHead).taster?.state).toBe("error");
  }, 60_000);
});
