import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { TIERS } from "@taster/core";
import { type LocalStack, startLocalStack } from "../src/local-stack";
import { residue } from "./env";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ repo: `e2e-${process.pid}-${Date.now().toString(36)}/hello-web` });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe("end to end: signed webhook → bridge → Redis → worker → lab swarm → forge", () => {
  test("a maintainer's !testme ends as one final comment with the tier table and the statuses, zero residue", async () => {
    const answer = await stack.comment("Looks good to me.\n\n!testme\n");
    expect(answer).toMatchObject({ status: 202, outcome: "accepted", runId: expect.any(String) });
    const runId = answer.runId as string;
    const logLines: string[] = [];
    const state = await stack.waitForVerdict(runId, (line) => logLines.push(line), 180_000);
    // The comment in the failure message says why, if it was not green.
    expect({ state, comment: state === "done" ? "" : stack.stickyComment() }).toEqual({
      state: "done",
      comment: "",
    });

    const stickies = stack.sim.state.commentsOn(stack.repo, 1).filter((c) => c.user === "taster-bot");
    expect(stickies).toHaveLength(1);
    const body = stack.stickyComment() ?? "";
    expect(body).toContain("passed, level L4");
    expect(body).toContain("| tier | result | tests | duration | note |");
    for (const tier of ["install", "upgrade", "backup", "restore"])
      expect(body).toMatch(new RegExp(`\\| ${tier}( \\([^|]*\\))? \\| ✅ pass \\|`));
    expect(body).toContain("base `1.1.0+1.1` → head `1.1.0+1.1+");
    expect(body).toContain(`/runs/${runId}/log`);

    const statuses = Object.fromEntries(stack.statuses().map((s) => [s.context, s.state]));
    expect(statuses).toEqual({
      taster: "success",
      ...Object.fromEntries(TIERS.map((t) => [`taster/${t}`, "success"])),
    });
    expect(stack.sim.state.reactions.some((r) => r.content === "eyes")).toBe(true);

    const run = await stack.worker.runs.getRun(runId);
    const deployed = (run?.result as { stack?: string } | undefined)?.stack;
    expect(deployed).toMatch(/^t[0-9a-f]{10}$/);
    expect(await residue(stack.lab, deployed as string)).toEqual([]);
    expect(logLines.some((l) => l.includes("teardown: zero residue"))).toBe(true);

    const everything = [body, ...stack.sim.state.statuses.map((s) => s.description ?? ""), ...logLines].join(
      "\n",
    );
    for (const secret of stack.secrets) expect(everything).not.toContain(secret);
  }, 240_000);
});
