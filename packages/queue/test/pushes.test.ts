import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab } from "@taster/lab";
import type { Redis } from "ioredis";
import { connectRedis, Keys, PushLog } from "../src/index";

const ns = `ptest-${process.pid}-${Date.now()}`;
const REPO = "coop-cloud/hello-web";
const [A, B, C] = ["a", "b", "c"].map((x) => x.repeat(40)) as [string, string, string];
let redis: Redis;
let pushes: PushLog;
let pr = 0;

beforeAll(async () => {
  redis = connectRedis((await ensureLab()).redisUrl);
  await new Promise((resolve) => redis.once("ready", resolve));
  pushes = new PushLog({ redis, keyPrefix: ns, maxPushesPerPull: 3, pushTtlSec: 600 });
});

afterAll(async () => {
  const keys = await redis.keys(`${ns}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe("the push log: which head a comment's author saw", () => {
  it("says seen only for the last push before the comment", async () => {
    const n = ++pr;
    await pushes.record("github", REPO, n, A, 1_000);
    await pushes.record("github", REPO, n, B, 2_000);
    expect(await pushes.headAt("github", REPO, n, B, 3_000)).toBe("seen");
    // Head A with B pushed between A and the comment: the author saw B.
    expect(await pushes.headAt("github", REPO, n, A, 3_000)).toBe("moved");
    // Pushed after the comment, or in the same millisecond.
    expect(await pushes.headAt("github", REPO, n, B, 1_500)).toBe("moved");
    expect(await pushes.headAt("github", REPO, n, B, 2_000)).toBe("moved");
    // Never recorded (its webhook was lost).
    expect(await pushes.headAt("github", REPO, n, C, 3_000)).toBe("unknown");
    // Another PR, forge or repo shares nothing.
    expect(await pushes.headAt("gitea", REPO, n, B, 3_000)).toBe("unknown");
    expect(await pushes.headAt("github", REPO, n + 1000, B, 3_000)).toBe("unknown");
  });

  it("keeps the latest receive time of a sha pushed again (a force-push back to old code is a new push)", async () => {
    const n = ++pr;
    await pushes.record("github", REPO, n, B, 1_000); // malicious B first
    await pushes.record("github", REPO, n, A, 2_000); // benign A, which the maintainer reviews
    await pushes.record("github", REPO, n, B, 4_000); // B again, after the comment at 3 000
    expect(await pushes.headAt("github", REPO, n, B, 3_000)).toBe("moved");
  });

  it("treats two shas received in the same millisecond as not known", async () => {
    const n = ++pr;
    await pushes.record("github", REPO, n, A, 1_000);
    await pushes.record("github", REPO, n, B, 1_000);
    expect(await pushes.headAt("github", REPO, n, A, 2_000)).toBe("moved");
    expect(await pushes.headAt("github", REPO, n, B, 2_000)).toBe("moved");
  });

  it("stays small: bounded per PR, with a TTL, case-insensitive repo names", async () => {
    const n = ++pr;
    const shas = Array.from({ length: 10 }, (_, i) => String(i).repeat(40));
    for (const [i, sha] of shas.entries())
      await pushes.record("github", "Coop-Cloud/Hello-Web", n, sha, 1_000 + i);
    const key = new Keys(ns).pushes("github", REPO, n);
    expect(await redis.zcard(key)).toBe(3);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600);
    expect(await pushes.headAt("github", REPO, n, shas[9] as string, 5_000)).toBe("seen");
    expect(await pushes.headAt("github", REPO, n, shas[0] as string, 5_000)).toBe("unknown");
  });
});
