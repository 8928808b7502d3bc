import { describe, expect, it } from "@jest/globals";
import { Redactor } from "@taster/core";
import { failedTiers, pullHistoryLink, renderFinal } from "../src/index";
import { results, tier } from "./fixtures";

const ctx = {
  runId: "hello-web-1-abc-1",
  repo: "coop-cloud/hello-web",
  pr: 1,
  sha: "0123456789abcdef0123456789abcdef01234567",
  recipe: "hello-web",
  runUrl: "https://taster.test/runs/hello-web-1-abc-1",
  logUrl: "https://taster.test/runs/hello-web-1-abc-1/log",
  historyUrl: pullHistoryLink("https://taster.test", { forge: "gitea", repo: "coop-cloud/hello-web", pr: 1 }),
};

const upgradeFails = results({
  outcome: "fail",
  level: 1,
  tiers: { upgrade: tier("fail"), backup: tier("skip"), restore: tier("skip") },
});

describe("re-running what failed", () => {
  it("names the failed tiers plus install, never the ones the failure skipped", () => {
    expect(failedTiers(upgradeFails)).toEqual(["install", "upgrade"]);
    expect(failedTiers(results({ outcome: "fail", tiers: { install: tier("fail") } }))).toEqual(["install"]);
    expect(failedTiers(results())).toEqual([]);
  });

  it("gives the exact command and the PR's earlier attempts at the end of a failed verdict", () => {
    const body = renderFinal(ctx, upgradeFails, new Redactor()).body;
    expect(body).toContain(
      "To re-run only what failed (install → upgrade), comment `!testme failed` (or `!testme upgrade`)",
    );
    expect(body).toContain(
      "[Earlier attempts on this pull request](https://taster.test/prs/gitea/coop-cloud/hello-web/1)",
    );
  });

  it("offers no re-run command for a pass, only the earlier attempts", () => {
    const body = renderFinal(ctx, results(), new Redactor()).body;
    expect(body).not.toContain("!testme failed");
    expect(body).toContain("[Earlier attempts on this pull request]");
  });
});

describe("a re-check of what failed", () => {
  it("says per tier whether it failed again on the same commit", () => {
    const recheck = {
      of: "hello-web-1-abc-0",
      tiers: { upgrade: "red-again", custom: "green", restore: "not-run" } as const,
    };
    const body = renderFinal(ctx, { ...upgradeFails, recheck }, new Redactor()).body;
    expect(body).toContain("Re-check of the tiers that failed in run `hello-web-1-abc-0` on this commit:");
    expect(body).toContain("- **upgrade** red again: a genuine failure");
    expect(body).toContain("- **restore** not run this time");
    expect(body).toContain("- **custom** green this time: it failed there, so it is flaky");
    // In the tiers' order, whatever order the record has.
    expect(body.indexOf("**upgrade** red")).toBeLessThan(body.indexOf("**restore** not run"));
  });

  it("says nothing of the kind for an ordinary run", () => {
    expect(renderFinal(ctx, upgradeFails, new Redactor()).body).not.toContain("Re-check");
  });
});
