import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { afterEach, describe, expect, test } from "@jest/globals";
import { queueNameFor } from "@taster/queue";
import { Queue } from "bullmq";
import { stackOf } from "../src/index";
import { workRootFor } from "../src/orphans";
import { exited, spawnWorker } from "./child";
import { latestStatuses, residue, startEnv, stickies, type TestEnv, waitFor } from "./env";

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const logHas = (env: TestEnv, runId: string, text: string) => async () =>
  (await env.queues.logs.readLog(runId)).some((l) => l.line.includes(text));

const logCount = async (env: TestEnv, runId: string, text: string) =>
  (await env.queues.logs.readLog(runId)).filter((l) => l.line.includes(text)).length;

const doneRun = (env: TestEnv, runId: string) => async () => {
  const run = await env.queues.runs.getRun(runId);
  return run && ["done", "failed", "cancelled"].includes(run.state) ? run : undefined;
};

describe("a worker that dies or is stopped mid-run", () => {
  test("kill -9 mid-deploy: another worker removes the orphan stack, finishes the job, one final comment", async () => {
    env = await startEnv();
    const e = env;
    const child = await spawnWorker(e, 3_000);
    const { runId } = await e.enqueue(e.prHead);
    await waitFor("the child to be deploying", logHas(e, runId, "install › op: deploy"), 60_000);
    await new Promise((r) => setTimeout(r, 1_500));
    child.kill("SIGKILL");
    await exited(child);
    // kill -9 skips the harness's clean-up: the dead worker's checkout is still on disk.
    expect((await readdir(workRootFor(e.keyPrefix, runId))).length).toBeGreaterThan(0);

    const survivor = e.worker({ lockDurationMs: 3_000, stalledIntervalMs: 1_000 });
    await survivor.ready();
    const run = await waitFor("the job to be finished by the survivor", doneRun(e, runId), 120_000);
    expect(run.state).toBe("done");
    expect(await logHas(e, runId, "retaking the run; removing orphan stack")()).toBe(true);
    expect(await survivor.outbox.drained(runId, 20_000)).toBe(true);
    expect(existsSync(workRootFor(e.keyPrefix, runId))).toBe(false);

    const stack = (run.result as { stack: string; flags: { deployCount: number } }).stack;
    expect((run.result as { flags: { deployCount: number } }).flags.deployCount).toBe(1);
    expect(await residue(e.lab, stack)).toEqual([]);
    const comments = stickies(e);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("passed, level L1");
  }, 200_000);

  test("SIGTERM: the run is torn down and requeued, never half-reported; the next worker finishes it", async () => {
    env = await startEnv();
    const e = env;
    const child = await spawnWorker(e, 30_000);
    const { runId } = await e.enqueue(e.prHead);
    await waitFor("the child to be deploying", logHas(e, runId, "install › op: deploy"), 60_000);
    await new Promise((r) => setTimeout(r, 1_500));
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);

    const queue = new Queue(queueNameFor(e.host), { connection: e.redis, prefix: e.bullPrefix });
    try {
      expect(["delayed", "waiting", "wait"]).toContain(await queue.getJobState(runId));
    } finally {
      await queue.close();
    }
    expect(await logHas(e, runId, "teardown: zero residue")()).toBe(true);
    expect((await e.queues.runs.getRun(runId))?.result).toBeUndefined();
    expect(stickies(e).every((c) => !c.body.includes("level L"))).toBe(true);

    const next = e.worker();
    await next.ready();
    const run = await waitFor("the requeued job to finish", doneRun(e, runId), 120_000);
    expect(run.state).toBe("done");
    expect(await next.outbox.drained(runId, 20_000)).toBe(true);
    expect(await residue(e.lab, (run.result as { stack: string }).stack)).toEqual([]);
    expect(stickies(e)).toHaveLength(1);
    expect(stickies(e)[0]?.body).toContain("passed, level L1");
  }, 200_000);

  test("a run that keeps losing its worker (kill -9 three times) ends torn down, with an infrastructure error saying so", async () => {
    env = await startEnv();
    const e = env;
    const { runId } = await e.enqueue(e.prHead);
    for (let kill = 1; kill <= 3; kill++) {
      const child = await spawnWorker(e, 3_000);
      // Each attempt (the first and every retake) logs its manifest once, right after its fetch.
      await waitFor(
        `attempt ${kill} to start`,
        async () => (await logCount(e, runId, "manifest: repo-local code")) >= kill,
        60_000,
      );
      if (kill === 3) {
        // The last one dies with its stack deployed, so the survivor has something to tear down.
        await waitFor("the deploy", logHas(e, runId, "install › op: deploy"), 60_000);
        await new Promise((r) => setTimeout(r, 1_500));
      }
      child.kill("SIGKILL");
      await exited(child);
    }

    // BullMQ fails a job that stalled more than maxStalledCount (2) times on its next pickup.
    const survivor = e.worker({ lockDurationMs: 3_000, stalledIntervalMs: 1_000 });
    await survivor.ready();
    const run = await waitFor("the run to be concluded", doneRun(e, runId), 60_000);
    expect(run.state).toBe("failed");
    expect(run.result).toMatchObject({ outcome: "error", residue: [] });
    expect((run.result as { error: string }).error).toContain("kept losing its worker");
    expect(await survivor.outbox.drained(runId, 20_000)).toBe(true);
    expect(await residue(e.lab, stackOf({ repo: e.repo, pr: 1, sha: e.prHead }))).toEqual([]);
    const comments = stickies(e);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("infrastructure error");
    expect(comments[0]?.body).toContain("kept losing its worker");
    expect(latestStatuses(e, e.prHead).taster?.state).toBe("error");
  }, 200_000);
});
