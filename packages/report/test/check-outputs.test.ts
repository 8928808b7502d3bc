import { describe, expect, it } from "@jest/globals";
import { Redactor } from "@taster/core";
import { finalStatuses, renderCancelled } from "../src/index";
import { results, tier } from "./fixtures";

const ctx = {
  runId: "r-1",
  repo: "coop-cloud/hello-web",
  pr: 1,
  sha: "3f6ce28c0d".padEnd(40, "0"),
  recipe: "hello-web",
  runUrl: "https://taster.example/runs/r-1",
  logUrl: "https://taster.example/runs/r-1/log",
};

describe("check-run outputs carried by the statuses", () => {
  const failing = results({
    outcome: "fail",
    level: 1,
    tiers: {
      upgrade: tier("fail", {
        reason: "1 of 2 tests failed",
        tests: [
          {
            file: "_generic/upgrade.test.ts",
            name: "serves the page",
            status: "fail",
            durationMs: 10,
            failure: "expected 200, got 502 (secret-v4lue)",
          },
          { file: "_generic/upgrade.test.ts", name: "keeps the volume", status: "pass", durationMs: 10 },
        ],
      }),
    },
  });
  const redactor = new Redactor();
  redactor.add("secret-v4lue");
  const byContext = Object.fromEntries(finalStatuses(ctx, failing, redactor).map((s) => [s.context, s]));

  it("gives the summary the whole tier table and the failures, each tier its own row and failures", () => {
    expect(byContext.taster?.output?.title).toBe("failed, level L1");
    expect(byContext.taster?.output?.summary).toContain("| upgrade | ❌ FAIL | 1/2 |");
    expect(byContext.taster?.output?.summary).toContain("| install | ✅ pass |");
    expect(byContext.taster?.output?.text).toContain("serves the page");
    const upgrade = byContext["taster/upgrade"]?.output;
    expect(upgrade?.title).toMatch(/^upgrade: FAIL in 4.2s: 1 of 2 tests failed$/);
    expect(upgrade?.summary).toContain("| upgrade | ❌ FAIL | 1/2 |");
    expect(upgrade?.summary).not.toContain("| install |");
    expect(upgrade?.text).toContain("expected 200, got 502");
    expect(byContext["taster/install"]?.output?.text).toBe("");
  });

  it("redacts secrets in every output", () => {
    expect(JSON.stringify(byContext)).not.toContain("secret-v4lue");
  });

  it("marks a superseded run's check run cancelled", () => {
    const [status] = renderCancelled(ctx, "Superseded by a newer commit.", new Redactor()).statuses;
    expect(status?.output).toMatchObject({ conclusion: "cancelled", title: "cancelled" });
  });
});
