import { afterEach, describe, expect, test } from "@jest/globals";
import { queueNameFor } from "@taster/queue";
import { Queue } from "bullmq";
import { exited, spawnWorker } from "./child";
import { residue, startEnv, stickies, type TestEnv, waitFor } from "./env";

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const logHas = (env: TestEnv, runId: string, text: string) => async () =>
  (await env.queues.logs.readLog(runId)).some((l) => l.line.includes(text));

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

    const survivor = e.worker({ lockDurationMs: 3_000, stalledIntervalMs: 1_000 });
    await survivor.ready();
    const run = await waitFor("the job to be finished by the survivor", doneRun(e, runId), 120_000);
    expect(run.state).toBe("done");
    expect(await logHas(e, runId, "retaking the run; removing orphan stack")()).toBe(true);
    expect(await survivor.outbox.drained(runId, 20_000)).toBe(true);

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
});
