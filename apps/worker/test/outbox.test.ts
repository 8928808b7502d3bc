import { afterEach, describe, expect, test } from "@jest/globals";
import { Redactor } from "@taster/core";
import { connectRedis, Keys, ReportOutbox, type ReportTarget } from "@taster/queue";
import { githubReporter } from "../src/forge";
import { type ReportContext, renderFinal, renderRunning } from "../src/report";
import { startEnv, stickies, type TestEnv, TOKEN } from "./env";
import { results } from "./fixtures";

let env: TestEnv | undefined;
const extra: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of extra.splice(0)) await o.close();
  await env?.close();
  env = undefined;
});

const none = new Redactor();
const BACKOFF = { baseMs: 100, maxMs: 500, attempts: 20 };

function contextOf(e: TestEnv, runId: string, sha: string): ReportContext {
  return {
    runId,
    repo: e.repo,
    pr: 1,
    sha,
    recipe: "hello-web",
    runUrl: `https://taster.test/runs/${runId}`,
    logUrl: `https://taster.test/runs/${runId}/log`,
  };
}

const targetOf = (ctx: ReportContext): ReportTarget => ({
  runId: ctx.runId,
  forge: "github",
  repo: ctx.repo,
  pr: ctx.pr,
  sha: ctx.sha,
});

/** Another process's outbox on the same Redis, delivering through its own forge client. */
function secondProcess(e: TestEnv): ReportOutbox {
  const redis = connectRedis(e.lab.redisUrl);
  const outbox = new ReportOutbox(redis, new Keys(e.keyPrefix), e.bullPrefix);
  outbox.deliver(() => reporter(e), { backoff: BACKOFF });
  extra.push({ close: () => outbox.close().finally(() => redis.disconnect()) });
  return outbox;
}

const reporter = (e: TestEnv) =>
  githubReporter({ token: TOKEN, baseUrl: e.sim.url, botLogin: e.sim.state.botLogin, writeMinTimeMs: 0 });

describe("the report outbox", () => {
  test("a progress report that arrives after the verdict never replaces it", async () => {
    env = await startEnv();
    const e = env;
    const { runId } = await e.enqueue(e.prHead);
    const ctx = contextOf(e, runId, e.prHead);
    e.sim.failNext({ status: 502, count: 3 });
    await e.queues.reports.publish(
      targetOf(ctx),
      renderFinal(ctx, results({ sha: e.prHead }), none),
      "final",
    );
    const late = renderRunning(ctx, { step: "teardown", elapsedMs: 1_000, stages: ["install"] }, none);
    await e.queues.reports.publish(targetOf(ctx), late, "running");
    e.queues.reports.deliver(() => reporter(e), { backoff: BACKOFF });
    expect(await e.queues.reports.drained(runId, 20_000)).toBe(true);
    expect(stickies(e)).toHaveLength(1);
    expect(stickies(e)[0]?.body).toContain("passed, level L4");
    expect(e.sim.state.statuses.filter((s) => s.context === "taster").at(-1)?.state).toBe("success");
  }, 60_000);

  test("the bridge's late 'queued' never replaces the worker's progress (burst regression)", async () => {
    env = await startEnv();
    const e = env;
    const { runId } = await e.enqueue(e.prHead);
    const ctx = contextOf(e, runId, e.prHead);
    const running = renderRunning(
      ctx,
      { tier: "install", step: "deploy", elapsedMs: 0, stages: ["install"] },
      none,
    );
    await e.queues.reports.publish(targetOf(ctx), running, "running");
    const queued = { body: "### 🧪 Taster: queued, position 3", statuses: [] };
    await e.queues.reports.publish(
      targetOf(ctx),
      {
        ...queued,
        statuses: [{ context: "taster", state: "pending" as const, description: "queued, position 3" }],
      },
      "queued",
    );
    e.queues.reports.deliver(() => reporter(e), { backoff: BACKOFF });
    expect(await e.queues.reports.drained(runId, 20_000, { verdict: false })).toBe(true);
    expect(stickies(e)[0]?.body).toContain("running tier **install**");
    expect(e.sim.state.statuses.some((s) => s.description?.includes("queued"))).toBe(false);
  }, 60_000);

  test("an older run's report never replaces a newer run's comment on the same PR", async () => {
    env = await startEnv();
    const e = env;
    const older = contextOf(e, (await e.enqueue(e.olderSha)).runId, e.olderSha);
    const newer = contextOf(e, (await e.enqueue(e.prHead)).runId, e.prHead);
    const progress = (ctx: ReportContext) =>
      renderRunning(ctx, { tier: "install", step: "op", elapsedMs: 0, stages: ["install"] }, none);
    await e.queues.reports.publish(targetOf(newer), progress(newer), "running");
    await e.queues.reports.publish(
      targetOf(older),
      renderFinal(older, results({ sha: e.olderSha }), none),
      "final",
    );
    e.queues.reports.deliver(() => reporter(e), { backoff: BACKOFF });
    expect(await e.queues.reports.drained(older.runId, 20_000)).toBe(true);
    expect(await e.queues.reports.drained(newer.runId, 20_000, { verdict: false })).toBe(true);
    expect(stickies(e)).toHaveLength(1);
    expect(stickies(e)[0]?.body).toContain(e.prHead.slice(0, 10));
    // The older run still gets its own commit statuses.
    expect(e.sim.state.statuses.some((s) => s.sha === e.olderSha && s.state === "success")).toBe(true);
  }, 60_000);

  test("two processes delivering one PR's reports at once create one comment, ending on the last", async () => {
    env = await startEnv();
    const e = env;
    const { runId } = await e.enqueue(e.prHead);
    const ctx = contextOf(e, runId, e.prHead);
    e.queues.reports.deliver(() => reporter(e), { backoff: BACKOFF });
    secondProcess(e);
    for (const tier of ["install", "upgrade", "backup", "restore"] as const)
      await e.queues.reports.publish(
        targetOf(ctx),
        renderRunning(ctx, { tier, step: "op", elapsedMs: 0, stages: ["install"] }, none),
        "running",
      );
    await e.queues.reports.publish(
      targetOf(ctx),
      renderFinal(ctx, results({ sha: e.prHead }), none),
      "final",
    );
    expect(await e.queues.reports.drained(runId, 30_000)).toBe(true);
    expect(stickies(e)).toHaveLength(1);
    expect(stickies(e)[0]?.body).toContain("passed, level L4");
  }, 60_000);
});
