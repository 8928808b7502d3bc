import { afterEach, describe, expect, test } from "@jest/globals";
import { Redactor } from "@taster/core";
import { githubReportForge } from "../src/forge";
import { ReportOutbox } from "../src/outbox";
import { type ReportContext, renderFinal, renderRunning } from "../src/report";
import { startEnv, stickies, type TestEnv, TOKEN } from "./env";
import { results } from "./fixtures";

let env: TestEnv | undefined;
let outbox: ReportOutbox | undefined;
afterEach(async () => {
  await outbox?.close();
  await env?.close();
  env = outbox = undefined;
});

describe("the report outbox", () => {
  test("a progress report that arrives after the verdict never replaces it", async () => {
    env = await startEnv();
    const e = env;
    outbox = new ReportOutbox(e.redis, {
      keyPrefix: e.keyPrefix,
      bullPrefix: e.bullPrefix,
      forge: githubReportForge({ token: TOKEN, baseUrl: e.sim.url, botLogin: e.sim.state.botLogin }),
      backoff: { baseMs: 100, maxMs: 500, attempts: 10 },
    });
    const ctx: ReportContext = {
      runId: `outbox-${process.pid}`,
      repo: e.repo,
      pr: 1,
      sha: e.prHead,
      recipe: "hello-web",
      runUrl: "https://taster.test/runs/x",
      logUrl: "https://taster.test/runs/x/log",
    };
    const target = { runId: ctx.runId, repo: ctx.repo, pr: 1, sha: e.prHead };
    const none = new Redactor();
    e.sim.failNext({ status: 502, count: 3 });
    await outbox.publish(target, renderFinal(ctx, results({ sha: e.prHead }), none), { final: true });
    await outbox.publish(
      target,
      renderRunning(ctx, { step: "teardown", elapsedMs: 1_000, stages: ["install"] }, none),
    );
    outbox.start();
    expect(await outbox.drained(ctx.runId, 20_000)).toBe(true);
    expect(stickies(e)).toHaveLength(1);
    expect(stickies(e)[0]?.body).toContain("passed, level L4");
    expect(e.sim.state.statuses.filter((s) => s.context === "taster").at(-1)?.state).toBe("success");
  }, 60_000);
});
