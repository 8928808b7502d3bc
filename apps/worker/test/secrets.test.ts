import { afterEach, describe, expect, test } from "@jest/globals";
import type { RunOptions } from "@taster/harness";
import { startEnv, type TestEnv, TOKEN, waitFor } from "./env";
import { results as fixtureResults } from "./fixtures";

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe("the worker hands its secrets to every run", () => {
  test("each run's redactor is seeded with the forge token and the Redis password", async () => {
    env = await startEnv();
    const e = env;
    const seen: RunOptions[] = [];
    const worker = e.worker({
      runStep: async (opts) => {
        seen.push(opts);
        return fixtureResults({ sha: e.prHead, level: 1 });
      },
    });
    await worker.ready();
    await e.enqueue(e.prHead);
    const opts = await waitFor("the run step", () => seen[0], 30_000);
    const redisPassword = decodeURIComponent(new URL(e.lab.redisUrl).password);
    expect(redisPassword.length).toBeGreaterThan(3);
    // Booleans, so a failure never prints the password.
    expect(opts.secrets?.includes(TOKEN)).toBe(true);
    expect(opts.secrets?.includes(redisPassword)).toBe(true);
  }, 60_000);
});
