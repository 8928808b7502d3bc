import { describe, expect, it } from "@jest/globals";
import {
  chaosVersion,
  compareUpstream,
  parseReleaseTag,
  sortReleases,
  upgradeBase,
  versionOf,
} from "../src/index";

const order = (tags: string[]) => sortReleases(tags).map((r) => r.tag);

describe("release tags", () => {
  it("parses <recipe semver>+<upstream>, upstream in any docker-tag form", () => {
    expect(parseReleaseTag("1.7.1+1.27.2")).toEqual({
      tag: "1.7.1+1.27.2",
      recipe: "1.7.1",
      upstream: "1.27.2",
    });
    expect(parseReleaseTag("0.2.0+2.1")?.upstream).toBe("2.1");
    expect(parseReleaseTag("1.0.0+2024-01-01")?.upstream).toBe("2024-01-01");
    expect(parseReleaseTag("2.0.0-rc.1+v1.2")).toMatchObject({ recipe: "2.0.0-rc.1", upstream: "v1.2" });
  });

  it("ignores tags that are not releases", () => {
    for (const tag of [
      "latest",
      "v1.0.0+1.0",
      "1.0.0",
      "1.0+1.0",
      "1.0.0+",
      "+1.0",
      "1.0.0+1.0+abcdef12",
      "01.0.0+1",
    ]) {
      expect(parseReleaseTag(tag)).toBeNull();
    }
    expect(order(["latest", "1.0.0+1.0", "backup-2023", "0.9.0+0.9"])).toEqual(["0.9.0+0.9", "1.0.0+1.0"]);
  });

  it("orders by recipe semver numerically, not as text", () => {
    expect(order(["1.10.0+1.0", "1.9.0+2.0", "1.2.0+9.9"])).toEqual(["1.2.0+9.9", "1.9.0+2.0", "1.10.0+1.0"]);
  });

  it("orders by upstream when the recipe version ties", () => {
    expect(order(["1.0.0+1.10", "1.0.0+1.9", "1.0.0+1.9.1"])).toEqual([
      "1.0.0+1.9",
      "1.0.0+1.9.1",
      "1.0.0+1.10",
    ]);
  });

  it("puts recipe pre-releases before their release", () => {
    expect(order(["1.0.0+1.0", "1.0.0-rc.2+1.0", "1.0.0-rc.10+1.0", "0.9.0+1.0"])).toEqual([
      "0.9.0+1.0",
      "1.0.0-rc.2+1.0",
      "1.0.0-rc.10+1.0",
      "1.0.0+1.0",
    ]);
  });

  it("compares non-semver upstream versions sensibly", () => {
    expect(compareUpstream("2.0-rc1", "2.0")).toBeLessThan(0);
    expect(compareUpstream("v1.2", "1.10")).toBeLessThan(0);
    expect(compareUpstream("v1.2", "1.2.0")).toBe(0);
    expect(compareUpstream("2024-01-31", "2024-02-01")).toBeLessThan(0);
    expect(compareUpstream("2024-12-01", "2024-2-01")).toBeGreaterThan(0);
    expect(compareUpstream("r9", "r10")).toBeLessThan(0);
  });
});

describe("upgrade base (pure)", () => {
  const tags = [
    { tag: "1.0.0+1.0", sha: "a".repeat(40) },
    { tag: "1.1.0+1.1", sha: "b".repeat(40) },
    { tag: "1.2.0+1.2", sha: "c".repeat(40) },
    { tag: "not-a-release", sha: "e".repeat(40) },
  ];
  const history =
    (...shas: string[]) =>
    (ancestor: string) =>
      shas.includes(ancestor);

  it("prefers the newest release in the head's history over a newer one outside it", async () => {
    const head = "d".repeat(40);
    const decision = await upgradeBase(tags, head, history("a".repeat(40), "b".repeat(40)));
    expect(decision.base?.tag).toBe("1.1.0+1.1");
    expect(decision.reason).toContain("history");
  });

  it("falls back to the newest release, saying so, when none is in the head's history", async () => {
    const decision = await upgradeBase(tags, "d".repeat(40), history());
    expect(decision.base?.tag).toBe("1.2.0+1.2");
    expect(decision.reason).toMatch(/no release is in the head's history/);
  });

  it("never takes a release at the head or newer than it", async () => {
    const all = history("a".repeat(40), "b".repeat(40), "c".repeat(40));
    expect((await upgradeBase(tags, "b".repeat(40), all)).base?.tag).toBe("1.0.0+1.0");
  });

  it("honours the upgradeBase setting: a tag, none, or an error naming a missing tag", async () => {
    const head = "d".repeat(40);
    expect((await upgradeBase(tags, head, history(), "1.0.0+1.0")).base?.tag).toBe("1.0.0+1.0");
    expect(await upgradeBase(tags, head, history(), "none")).toEqual({
      base: null,
      reason: expect.stringContaining("none"),
    });
    await expect(upgradeBase(tags, head, history(), "9.9.9+9")).rejects.toThrow(/9\.9\.9\+9.*1\.0\.0\+1\.0/);
  });

  it("has no base, with a reason, when there are no releases", async () => {
    expect(await upgradeBase([], "d".repeat(40), history())).toEqual({
      base: null,
      reason: "the recipe has no release tags",
    });
  });
});

describe("deployed version labels", () => {
  const sha = "3f6ce28c0d1867ee5891b008c8137d2758316a55";

  it("chaos-version is abra's 8-char short sha, +U when dirty", () => {
    expect(chaosVersion(sha)).toBe("3f6ce28c");
    expect(chaosVersion(sha, true)).toBe("3f6ce28c+U");
    expect(() => chaosVersion("main")).toThrow(/not a commit sha/);
  });

  it("version is the tag at the head, else the latest reachable release + sha, else the sha", () => {
    expect(versionOf({ sha, tag: "1.1.0+1.1" })).toBe("1.1.0+1.1");
    expect(versionOf({ sha, latestReachableTag: "1.1.0+1.1" })).toBe("1.1.0+1.1+3f6ce28c");
    expect(versionOf({ sha })).toBe("3f6ce28c");
    // A chaos label must never pass for a release.
    expect(parseReleaseTag(versionOf({ sha, latestReachableTag: "1.1.0+1.1" }))).toBeNull();
  });
});
