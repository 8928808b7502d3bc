import { afterEach, describe, expect, test } from "@jest/globals";
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

/** A Redis stream id starts with the millisecond it was appended at. */
const streamMs = (id: string) => Number(id.split("-")[0]);

describe("the verdict is published before teardown, then amended with its outcome", () => {
  test("the verdict reaches the forge while the stack is still being torn down; the comment ends 'teardown clean'", async () => {
    env = await startEnv();
    const worker = env.worker();
    await worker.ready();
    const { runId } = await env.enqueue(env.prHead, ["install"]);
    const run = await waitFor("the run to finish", finished(env, runId), 150_000);
    expect(run.state).toBe("done");
    expect(await worker.outbox.drained(runId, 20_000)).toBe(true);

    const log = await worker.logs.readLog(runId);
    const teardownEnd = log.find((l) => l.line.includes("teardown: zero residue"));
    expect(teardownEnd).toBeDefined();
    const verdict = env.sim.state.statuses.find(
      (s) => s.sha === env?.prHead && s.context === "taster" && s.state === "success",
    );
    expect(verdict?.description).toBe("passed, level L1");
    // The forge had the verdict before the run log said the stack was gone.
    expect(Date.parse(verdict?.at ?? "")).toBeLessThan(streamMs(teardownEnd?.id ?? ""));

    // The amendment follows the stored result: drained() may have seen the early verdict alone.
    const e = env;
    await waitFor("the amended verdict", () => stickies(e)[0]?.body.includes("teardown clean"), 20_000);
    const comments = stickies(env);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("passed, level L1");
    expect(await residue(env.lab, (run.result as { stack: string }).stack)).toEqual([]);
  }, 200_000);

  test("residue found after the verdict amends it to an infrastructure error, visibly", async () => {
    env = await startEnv();
    const e = env;
    const worker = e.worker({
      runStep: async (opts) => {
        const verdict = fixtureResults({ sha: opts.sha, level: 4 });
        await opts.onVerdict?.(verdict);
        // The early verdict is on the forge before "teardown" ends.
        await waitFor(
          "the early verdict on the forge",
          () =>
            stickies(e)[0]?.body.includes("teardown running") &&
            latestStatuses(e, e.prHead).taster?.state === "success",
          20_000,
        );
        return {
          ...verdict,
          residue: ["volume leftover_data"],
          flags: { ...verdict.flags, cleanTeardown: false },
        };
      },
    });
    await worker.ready();
    const { runId } = await e.enqueue(e.prHead);
    const run = await waitFor("the run to finish", finished(e, runId), 30_000);
    expect(run.state).toBe("failed");
    expect(await worker.outbox.drained(runId, 20_000)).toBe(true);
    await waitFor("the amended verdict", () => latestStatuses(e, e.prHead).taster?.state === "error", 20_000);

    const pending = e.sim.state.statuses.find((s) => s.context === "taster" && s.state === "success");
    expect(pending?.description).toBe("passed, level L4");
    const amended = latestStatuses(e, e.prHead).taster;
    expect(amended?.state).toBe("error");
    expect(amended?.description).toContain("teardown left residue: volume leftover_data");
    const comments = stickies(e);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("infrastructure error");
    expect(comments[0]?.body).toContain(
      "the tests passed, level L4, but teardown left residue: volume leftover_data",
    );
    const stored = run.result as { outcome: string; errorKind?: string };
    expect(stored).toMatchObject({ outcome: "error", errorKind: "infra" });
  }, 60_000);
});
