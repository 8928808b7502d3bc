import { describe, expect, it } from "@jest/globals";
import { domainFor, freshStackOf, runIdFor, runStackOf, stackNameFor } from "../src/ids";

describe("run ids", () => {
  const key = { repo: "coop-cloud/hello-web", pr: 7, sha: "a".repeat(40) };

  it("gives a short, deterministic stack name that swarm accepts", () => {
    expect(stackNameFor(key)).toBe(stackNameFor({ ...key }));
    expect(stackNameFor(key)).toMatch(/^t[0-9a-f]{10}$/);
    // <stack>_<longest service name we expect> must stay under swarm's 63 chars.
    expect(`${stackNameFor(key)}_${"s".repeat(40)}`.length).toBeLessThanOrEqual(63);
  });

  it("gives different runs different names", () => {
    expect(stackNameFor(key)).not.toBe(stackNameFor({ ...key, sha: "b".repeat(40) }));
    expect(stackNameFor(key)).not.toBe(stackNameFor({ ...key, pr: 8 }));
  });

  it("makes job ids without ':' (BullMQ forbids it)", () => {
    expect(runIdFor(key)).not.toContain(":");
    expect(domainFor(key)).toBe(`${stackNameFor(key)}.taster.test`);
  });
});

describe("the fresh tier's stack", () => {
  it("is named after the run's stack, and maps back to it (the janitor keeps it while the run is live)", () => {
    const stack = stackNameFor({ repo: "coop-cloud/hello-web", pr: 1, sha: "a".repeat(40) });
    expect(freshStackOf(stack)).toBe(`${stack}-fresh`);
    expect(runStackOf(freshStackOf(stack))).toBe(stack);
    expect(runStackOf(stack)).toBe(stack);
  });
});
