import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab } from "@taster/lab";
import type { Redis } from "ioredis";
import { claimRun } from "../src/claim";
import { connectRedis, queueNameFor, RunQueues, type RunRequest } from "../src/index";

const ns = `qtest-${process.pid}-${Date.now()}`;
let redis: Redis;
let queues: RunQueues;
let counter = 0;

const SHA_A = "a".repeat(40);
const SHA_B = "b".repeat(40);

/** A request for a fresh PR unless told otherwise: every test works on its own PR. */
function request(overrides: Partial<RunRequest> = {}): RunRequest {
  counter += 1;
  return {
    forge: "github",
    repo: "coop-cloud/hello-web",
    pr: 1000 + counter,
    sha: SHA_A,
    recipe: "hello-web",
    stages: ["install", "upgrade"],
    host: "lab",
    commentId: 1000 * counter,
    deliveryId: `d-${counter}`,
    requestedBy: "alice",
    requestedAt: new Date().toISOString(),
    ...overrides,
  };
}

beforeAll(async () => {
  const lab = await ensureLab();
  redis = connectRedis(lab.redisUrl);
  await new Promise((resolve) => redis.once("ready", resolve));
  queues = new RunQueues({ redis, keyPrefix: ns, bullPrefix: `${ns}-bull` });
});

afterAll(async () => {
  await queues.queueFor("lab").obliterate({ force: true });
  await queues.close();
  const keys = await redis.keys(`${ns}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe("RunQueues.enqueue", () => {
  it("queues a job on the host's queue, named by a ':'-free run id", async () => {
    const result = await queues.enqueue(request({ host: "lab" }));
    expect(result.outcome).toBe("enqueued");
    expect(result.runId).toMatch(/^hello-web-\d+-aaaaaaaaaa-\d+$/);
    const job = await queues.queueFor("lab").getJob(result.runId);
    expect(job?.data).toEqual(
      expect.objectContaining({ runId: result.runId, sha: SHA_A, stages: ["install", "upgrade"] }),
    );
    expect(queueNameFor("lab")).toBe("taster-run-lab");
    expect((await queues.runs.getRun(result.runId))?.state).toBe("queued");
  });

  it("rejects a request that names a branch instead of a sha", async () => {
    await expect(queues.enqueue(request({ sha: "main" }))).rejects.toThrow(/sha/);
  });

  it("turns 100 concurrent copies of one delivery into exactly one job", async () => {
    const base = request();
    const results = await Promise.all(Array.from({ length: 100 }, () => queues.enqueue({ ...base })));
    const runIds = new Set(results.map((r) => r.runId));
    expect(runIds.size).toBe(1);
    expect(results.filter((r) => r.outcome === "enqueued")).toHaveLength(1);
    const jobs = await queues.queueFor("lab").getJobs(["wait"], 0, -1);
    expect(jobs.filter((j) => j.data.pr === base.pr)).toHaveLength(1);
  });

  it("answers the same comment under another delivery id with the same run", async () => {
    const first = await queues.enqueue(request());
    const again = await queues.enqueue({ ...first.job, deliveryId: "reconciler-x" });
    expect(again).toEqual(expect.objectContaining({ outcome: "duplicate", runId: first.runId }));
  });

  it("coalesces a second comment for the same sha onto the queued run", async () => {
    const first = await queues.enqueue(request());
    const second = await queues.enqueue({
      ...first.job,
      commentId: first.job.commentId + 1,
      deliveryId: "other",
    });
    expect(second).toEqual(expect.objectContaining({ outcome: "coalesced", runId: first.runId }));
  });

  it("lets a newer sha supersede the queued run of the same PR", async () => {
    const events: string[] = [];
    const subscriber = redis.duplicate({ enableOfflineQueue: true });
    await subscriber.subscribe(queues.keys.supersededChannel());
    subscriber.on("message", (_channel, message) => events.push(message));

    const old = await queues.enqueue(request());
    const newer = await queues.enqueue({
      ...old.job,
      sha: SHA_B,
      commentId: old.job.commentId + 1,
      deliveryId: "n",
    });
    expect(newer).toEqual(expect.objectContaining({ outcome: "enqueued", superseded: old.runId }));
    expect(await queues.queueFor("lab").getJob(old.runId)).toBeUndefined();
    expect((await queues.runs.getRun(old.runId))?.state).toBe("superseded");
    expect(await queues.runs.supersededBy(old.runId)).toBe(newer.runId);
    expect(await queues.position(old.runId)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 200));
    subscriber.disconnect();
    expect(events.map((e) => JSON.parse(e))).toContainEqual({ runId: old.runId, by: newer.runId });
  });

  it("leaves a running run for its worker to cancel, but marks it superseded", async () => {
    const old = await queues.enqueue(request());
    expect(await queues.runs.markRunning(old.runId)).toBe(true);
    const newer = await queues.enqueue({
      ...old.job,
      sha: SHA_B,
      commentId: old.job.commentId + 1,
      deliveryId: "r",
    });
    expect(newer.superseded).toBe(old.runId);
    expect((await queues.runs.getRun(old.runId))?.state).toBe("running");
    expect(await queues.runs.supersededBy(old.runId)).toBe(newer.runId);
    // A worker that picks up a superseded queued run learns it cannot start it.
    const gone = await queues.enqueue({
      ...old.job,
      sha: SHA_A,
      commentId: old.job.commentId + 2,
      deliveryId: "s",
    });
    expect(await queues.runs.markRunning(newer.runId)).toBe(false);
    expect(gone.superseded).toBe(newer.runId);
  });

  it("starts a fresh run for the same sha once the previous one has finished", async () => {
    const first = await queues.enqueue(request());
    await queues.runs.saveResult(first.runId, { level: 1 });
    const again = await queues.enqueue({ ...first.job, commentId: first.job.commentId + 1, deliveryId: "z" });
    expect(again.outcome).toBe("enqueued");
    expect(again.runId).not.toBe(first.runId);
    expect((await queues.runs.getRun(first.runId))?.result).toEqual({ level: 1 });
  });

  it("finishes an enqueue that was claimed but never reached BullMQ (crash or Redis blip)", async () => {
    const req = request();
    const claim = await claimRun(redis, queues.keys, {
      forge: req.forge,
      repo: req.repo,
      pr: req.pr,
      sha: req.sha,
      commentId: req.commentId,
      deliveryId: req.deliveryId,
      runBase: "crashed",
      jobJson: JSON.stringify(req),
      bullQueuePrefix: `${queues.bullPrefix}:${queueNameFor(req.host)}:`,
      ttlSec: 60,
    });
    expect(await queues.queueFor("lab").getJob(claim.runId)).toBeUndefined();
    const retried = await queues.enqueue(req); // the forge redelivers the same delivery
    expect(retried.runId).toBe(claim.runId);
    expect(await queues.queueFor("lab").getJob(claim.runId)).toBeDefined();
    expect((await queues.runs.getRun(claim.runId))?.state).toBe("queued");
  });

  it("reports queue positions in the order jobs will start", async () => {
    const host = `pos${process.pid}`;
    const a = await queues.enqueue(request({ host }));
    const b = await queues.enqueue(request({ host }));
    expect(await queues.position(a.runId)).toBe(1);
    expect(await queues.position(b.runId)).toBe(2);
    await queues.queueFor(host).obliterate({ force: true });
  });

  it("says once per name", async () => {
    expect(await queues.once("reply:pr-1")).toBe(true);
    expect(await queues.once("reply:pr-1")).toBe(false);
  });

  it("fails with an infra error, quickly, when Redis is unreachable", async () => {
    const dead = connectRedis("redis://127.0.0.1:1");
    const offline = new RunQueues({ redis: dead, keyPrefix: ns, bullPrefix: `${ns}-bull` });
    await expect(offline.enqueue(request())).rejects.toMatchObject({ kind: "infra" });
    await offline.close();
    dead.disconnect();
  });
});

describe("run store and log stream", () => {
  it("lists runs newest first", async () => {
    const a = await queues.enqueue(request());
    const b = await queues.enqueue(request());
    const listed = (await queues.runs.listRuns(500)).map((r) => r.runId);
    expect(listed.indexOf(b.runId)).toBeLessThan(listed.indexOf(a.runId));
  });

  it("streams a run's log in order and continues after the last id seen", async () => {
    const runId = `log-${counter++}`;
    const first = await queues.logs.appendLog(runId, "deploying");
    await queues.logs.appendLog(runId, "converged");
    await queues.logs.appendLog(runId, "install: pass");
    expect((await queues.logs.readLog(runId)).map((e) => e.line)).toEqual([
      "deploying",
      "converged",
      "install: pass",
    ]);
    expect((await queues.logs.readLog(runId, first)).map((e) => e.line)).toEqual([
      "converged",
      "install: pass",
    ]);
  });
});
