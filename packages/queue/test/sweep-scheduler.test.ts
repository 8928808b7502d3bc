import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab } from "@taster/lab";
import { type Job, Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import {
  connectRedis,
  queueNameFor,
  RunQueues,
  type RunRequest,
  SWEEP_JOB_NAME,
  SWEEP_PRIORITY,
  sweepSchedulerId,
  upsertSweepScheduler,
} from "../src/index";

const ns = `sweeptest-${process.pid}-${Date.now()}`;
const bullPrefix = `${ns}-bull`;
const host = "lab";
let redisUrl: string;
let redis: Redis;
let queue: Queue;

const connect = async () => {
  const r = connectRedis(redisUrl);
  await new Promise((resolve) => r.once("ready", resolve));
  return r;
};

beforeAll(async () => {
  redisUrl = (await ensureLab()).redisUrl;
  redis = await connect();
  queue = new Queue(queueNameFor(host), { connection: redis, prefix: bullPrefix });
});

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  const keys = await redis.keys(`${ns}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe("the scheduled sweep", () => {
  it("is upserted once per host, however many times the worker restarts", async () => {
    for (let restart = 0; restart < 3; restart++) {
      const own = await connect(); // a fresh process's connection
      await upsertSweepScheduler({ redis: own, bullPrefix, host }, "0 3 * * 1");
      own.disconnect();
    }
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.pattern, s.tz])).toEqual([
      [sweepSchedulerId(host), "0 3 * * 1", "UTC"],
    ]);
    // One next sweep waiting for Monday 03:00, at the sweep priority.
    const next = await queue.getJobs(["delayed", "prioritized", "wait"]);
    expect(next.map((j) => [j.name, j.opts.priority, j.data])).toEqual([
      [SWEEP_JOB_NAME, SWEEP_PRIORITY, { kind: "sweep", host }],
    ]);
  });

  it("a due sweep waits behind a PR run queued after it on the same host", async () => {
    const worker = new Worker(
      queueNameFor(host),
      async (job: Job) => {
        taken.push(job.name === SWEEP_JOB_NAME ? `sweep (priority ${job.opts.priority})` : "PR run");
      },
      {
        connection: { url: redisUrl, maxRetriesPerRequest: null },
        prefix: bullPrefix,
        concurrency: 1,
        autorun: false,
      },
    );
    const taken: string[] = [];
    // Every second: a sweep is due at once; the PR run is queued after it is due.
    await upsertSweepScheduler({ redis, bullPrefix, host }, "* * * * * *");
    await new Promise((r) => setTimeout(r, 2_500));
    const queues = new RunQueues({ redis, keyPrefix: ns, bullPrefix });
    await queues.enqueue(prRun());
    void worker.run();
    await waitFor(async () => taken.length >= 2);
    await upsertSweepScheduler({ redis, bullPrefix, host }, null); // sweeps off: the scheduler goes
    await worker.close();
    await queues.close();
    expect(taken.slice(0, 2)).toEqual(["PR run", `sweep (priority ${SWEEP_PRIORITY})`]);
    expect(await queue.getJobSchedulers()).toEqual([]);
  });
});

function prRun(): RunRequest {
  return {
    forge: "github",
    repo: "coop-cloud/hello-web",
    pr: 7,
    sha: "a".repeat(40),
    recipe: "hello-web",
    stages: ["install"],
    host,
    commentId: 7,
    deliveryId: "d-7",
    requestedBy: "alice",
    requestedAt: new Date().toISOString(),
  };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}
