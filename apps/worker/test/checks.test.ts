/**
 * Taster as a GitHub App, end to end on the lab: a maintainer's `!testme` becomes one check run per
 * tier plus the summary, created in progress and completed in place at the verdict with the tier
 * table and links; GitHub's "Re-run" button (`check_run` `rerequested`) runs the same stages again.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { TIERS } from "@taster/core";
import { type LocalStack, startLocalStack } from "../src/local-stack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({
    repo: `checks-${process.pid}-${Date.now().toString(36)}/hello-web`,
    app: true,
  });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const NAMES = ["taster", ...TIERS.map((t) => `taster/${t}`)].sort();

describe("GitHub as an App: check runs", () => {
  test("a run reports one check run per tier plus the summary, updated in place; Re-run runs it again", async () => {
    const answer = await stack.comment("!testme\n");
    expect(answer).toMatchObject({ status: 202, outcome: "accepted", runId: expect.any(String) });
    const runId = answer.runId as string;
    expect(await stack.waitForVerdict(runId, undefined, 180_000)).toBe("done");

    const first = stack.checkRuns().filter((c) => c.externalId === runId);
    // One per context, never re-created: the summary was created in progress and completed in place.
    expect(first.map((c) => c.name).sort()).toEqual(NAMES);
    const byName = Object.fromEntries(first.map((c) => [c.name, c]));
    expect(byName.taster).toMatchObject({ status: "completed", conclusion: "success" });
    expect(byName.taster?.updates).toBeGreaterThanOrEqual(1);
    // Every tier's check run was created in progress when the run started, then completed in place.
    for (const tier of TIERS)
      expect(byName[`taster/${tier}`]).toMatchObject({
        status: "completed",
        conclusion: "success",
        updates: expect.any(Number),
      });
    expect(TIERS.every((t) => (byName[`taster/${t}`]?.updates ?? 0) >= 1)).toBe(true);
    const summary = byName.taster?.output;
    expect(summary?.title).toBe("passed, level L4");
    expect(summary?.summary).toContain("| tier | result | tests | duration | note |");
    expect(summary?.summary).toMatch(/\| install( \([^|]*\))? \| ✅ pass \|/);
    expect(summary?.summary).toContain(`/runs/${runId}/log`);
    expect(byName["taster/upgrade"]?.output?.summary).toMatch(/\| upgrade( \([^|]*\))? \| ✅ pass \|/);
    expect(byName.taster?.detailsUrl).toContain(`/runs/${runId}`);
    // Checks replace commit statuses; the sticky comment stays.
    expect(stack.statuses()).toEqual([]);
    expect(stack.stickyComment()).toContain("passed, level L4");
    // Installation tokens only: no call carried the personal token (the stack has none configured).
    expect(stack.sim.state.appTokens.length).toBeGreaterThanOrEqual(1);

    // An untrusted user's Re-run runs nothing.
    const stranger = await stack.rerequest(byName["taster/backup"] as never, "stranger");
    expect(stranger.runId).toBeUndefined();

    const again = await stack.rerequest(byName["taster/backup"] as never);
    expect(again).toMatchObject({ status: 202, outcome: "accepted", runId: expect.any(String) });
    const rerunId = again.runId as string;
    expect(rerunId).not.toBe(runId);
    const rerun = await stack.worker.runs.getRun(rerunId);
    expect(rerun?.job).toMatchObject({ sha: stack.headSha, pr: 1, requestedBy: "alice" });
    expect(rerun?.job.stages).toEqual((await stack.worker.runs.getRun(runId))?.job.stages);
    expect(await stack.waitForVerdict(rerunId, undefined, 180_000)).toBe("done");
    const second = stack.checkRuns().filter((c) => c.externalId === rerunId);
    expect(second.map((c) => c.name).sort()).toEqual(NAMES);
    expect(second.every((c) => c.conclusion === "success")).toBe(true);
  }, 420_000);
});
