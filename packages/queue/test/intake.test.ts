import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab } from "@taster/lab";
import type { Redis } from "ioredis";
import { connectRedis, type IntakeItem, IntakeQueue, intakeIdFor, Keys } from "../src/index";
import { withTimeout } from "../src/redis";

const ns = `itest-${process.pid}-${Date.now()}`;
let redis: Redis;
let intake: IntakeQueue;

const item = (n: number): IntakeItem => ({
  forge: "github",
  repo: "coop-cloud/hello-web",
  pr: n,
  commentId: 5_000 + n,
  author: "maintainer",
  deliveryId: `${ns}-delivery-${n}`,
  command: { kind: "run", stages: [] },
  receivedAt: new Date().toISOString(),
  commentCreatedAt: new Date().toISOString(),
});

/** Counts the writes the connection's socket makes (each one a system call). */
function countWrites(connection: Redis): { readonly count: number; stop(): void } {
  const socket = connection.stream as unknown as Record<"_write" | "_writev", (...args: unknown[]) => void>;
  const original = { _write: socket._write, _writev: socket._writev };
  let count = 0;
  for (const name of ["_write", "_writev"] as const) {
    socket[name] = (...args: unknown[]) => {
      count++;
      return original[name].apply(socket, args);
    };
  }
  return {
    get count() {
      return count;
    },
    stop() {
      Object.assign(socket, original);
    },
  };
}

beforeAll(async () => {
  redis = connectRedis((await ensureLab()).redisUrl);
  await new Promise((resolve) => redis.once("ready", resolve));
  intake = new IntakeQueue({ redis, keyPrefix: ns, bullPrefix: `${ns}-bull` });
  await intake.submit(item(0)); // loads the scripts and sets the queue up
});

afterAll(async () => {
  await intake.close();
  const keys = [...(await redis.keys(`${ns}:*`)), ...(await redis.keys(`${ns}-bull:*`))];
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe("the intake's hand-off on the webhook's critical path", () => {
  it("sends a delivery's seen-once check and its job to Redis in one write, and still takes it once", async () => {
    const writes = countWrites(redis);
    try {
      expect(await intake.submit(item(1))).toMatchObject({ outcome: "accepted" });
      // One system call instead of one per command: on loopback each write also runs Redis's side of TCP.
      expect(writes.count).toBe(1);
    } finally {
      writes.stop();
    }
    expect(await intake.submit(item(1))).toMatchObject({ outcome: "duplicate" });
    // Items 0 and 1, once each, in the inbox: nothing moves them until processing starts.
    expect(await intake.backlog()).toBe(2);
    expect(await intake.has(intakeIdFor(item(1)))).toBe(true);
    expect(await intake.has(intakeIdFor(item(99)))).toBe(false);
  });

  it("lets deliveries answered in the same moment share that write", async () => {
    const writes = countWrites(redis);
    try {
      const outcomes = await Promise.all([2, 3, 4].map((n) => intake.submit(item(n))));
      expect(outcomes.map((o) => o.outcome)).toEqual(["accepted", "accepted", "accepted"]);
      expect(writes.count).toBe(1);
    } finally {
      writes.stop();
    }
  });
});

describe("the intake's processing", () => {
  const fresh = `${ns}-work`;
  const queueOf = () => new IntakeQueue({ redis, keyPrefix: fresh, bullPrefix: `${fresh}-bull` });
  const numbered = (n: number): IntakeItem => ({ ...item(n), deliveryId: `${fresh}-delivery-${n}` });

  afterAll(async () => {
    const keys = [...(await redis.keys(`${fresh}:*`)), ...(await redis.keys(`${fresh}-bull:*`))];
    if (keys.length) await redis.del(...keys);
  });

  it("moves every command taken in into the queue and processes each once, leaving the inbox empty", async () => {
    const queue = queueOf();
    // Taken in before anything processes (the http role answers while the intake is down).
    for (const n of [10, 11, 12]) await queue.submit(numbered(n));
    const seen: number[] = [];
    const processing = queue.work(async (data) => seen.push(data.pr));
    try {
      await waitUntil(async () => seen.length === 3 && (await queue.backlog()) === 0);
      // Taken in while processing runs: moved at once, not at the next poll.
      await queue.submit(numbered(13));
      await waitUntil(async () => seen.length === 4);
      expect(seen.sort()).toEqual([10, 11, 12, 13]);
      expect(await redis.xlen(new Keys(fresh).intakeInbox())).toBe(0);
    } finally {
      await processing.close();
      await queue.close();
    }
  });

  it("loses nothing a mover took and did not finish: the next one moves it", async () => {
    const queue = queueOf();
    const inbox = new Keys(fresh).intakeInbox();
    await queue.submit(numbered(20));
    // A mover read the entry (it is now pending in the group) and died before adding its job.
    await redis.xgroup("CREATE", inbox, "movers", "0", "MKSTREAM").catch(() => {});
    const taken = (await redis.xreadgroup(
      "GROUP",
      "movers",
      "mover",
      "COUNT",
      10,
      "STREAMS",
      inbox,
      ">",
    )) as [string, unknown[]][];
    expect(taken[0]?.[1]).toHaveLength(1);
    const seen: number[] = [];
    const processing = queue.work(async (data) => seen.push(data.pr));
    try {
      await waitUntil(async () => seen.length === 1 && (await queue.backlog()) === 0);
      expect(seen).toEqual([20]);
    } finally {
      await processing.close();
      await queue.close();
    }
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("withTimeout: one Redis step's bound", () => {
  it("passes the answer through, and turns silence past the bound into an infra error", async () => {
    await expect(withTimeout(Promise.resolve("PONG"), 50, "Redis did not answer")).resolves.toBe("PONG");
    await expect(withTimeout(Promise.reject(new Error("boom")), 50, "x")).rejects.toThrow("boom");
    await expect(withTimeout(new Promise(() => {}), 50, "Redis did not answer")).rejects.toMatchObject({
      name: "TasterError",
      kind: "infra",
      message: expect.stringContaining("Redis did not answer within 50 ms"),
    });
  });
});
