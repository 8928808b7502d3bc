import { describe, expect, it } from "@jest/globals";
import { Redactor } from "@taster/core";
import {
  CHECK_OUTPUT_LIMIT,
  formatDuration,
  type ReportContext,
  renderCancelled,
  renderCheckRun,
  renderFinal,
  renderInfraError,
  renderRunning,
  resultsTable,
  tierTableHtml,
} from "../src/index";
import { results, tier } from "./fixtures";

const none = new Redactor();
const links = { runUrl: "https://taster.example/runs/r1", logUrl: "https://taster.example/runs/r1/log" };
const ctx: ReportContext = {
  runId: "r1",
  repo: "o/r",
  pr: 1,
  sha: "0".repeat(40),
  recipe: "hello-web",
  ...links,
};

const failing = results({
  outcome: "fail",
  level: 0,
  tiers: {
    install: tier("fail", {
      reason: "1 assertion(s) failed",
      tests: [
        {
          file: "_generic/install.test.ts",
          name: "serves <HTTP>",
          status: "fail",
          durationMs: 5,
          failure: "expected 200, got 502",
        },
      ],
    }),
  },
});

describe("one model, one renderer per surface", () => {
  it("reads durations the same way everywhere", () => {
    expect([4_200, 200_000, 3_900_000].map(formatDuration)).toEqual(["4.2s", "3m 20s", "1h 5m"]);
  });

  it("gives a check run the PR comment's title, table and failures, and a neutral conclusion for Taster's own error", () => {
    const check = renderCheckRun(failing, links, none);
    expect(check.conclusion).toBe("failure");
    expect(check.title).toBe("failed, level L0");
    const row = (text: string) => text.split("\n").find((l) => l.startsWith("| install |"));
    expect(row(check.summary)).toBe(row(renderFinal(ctx, failing, none).body));
    expect(check.text).toContain("Failures (1)");
    expect(check.text).toContain("expected 200, got 502");
    expect(
      renderCheckRun(results({ outcome: "error", level: 0, error: "docker down" }), links, none).conclusion,
    ).toBe("neutral");
  });

  it("keeps a check run's text within the checks API limit and says where the rest is", () => {
    const tests = Array.from({ length: 200 }, (_, i) => ({
      file: "t.test.ts",
      name: `case ${i}`,
      status: "fail" as const,
      durationMs: 1,
      failure: "x".repeat(2_000),
    }));
    const check = renderCheckRun(
      results({ outcome: "fail", tiers: { install: tier("fail", { tests }) } }),
      links,
      none,
    );
    expect(check.text.length).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(check.text).toMatch(
      /truncated; see the \[full log\]\(https:\/\/taster\.example\/runs\/r1\/log\)\.$/,
    );
  });

  it("redacts secrets in every part of a check run", () => {
    const redactor = new Redactor();
    redactor.add("hunter2-secret");
    const check = renderCheckRun(
      results({ outcome: "error", level: 0, error: "token hunter2-secret refused" }),
      links,
      redactor,
    );
    expect(JSON.stringify(check)).not.toContain("hunter2-secret");
  });

  it("escapes PR text in the dashboard's tier rows, with the same words as the comment", () => {
    const hostile = results({
      outcome: "fail",
      tiers: { custom: tier("fail", { reason: "unintended skip: <script>x</script>" }) },
    });
    const page = tierTableHtml(hostile).toString();
    expect(page).toContain('<tr data-tier="custom" class="fail">');
    expect(page).toContain("✗ FAIL");
    expect(page).not.toContain("<script>");
    expect(page).toContain("unintended skip: &lt;script&gt;x&lt;/script&gt;");
  });

  it("prints the CLI table from the same rows", () => {
    expect(resultsTable(failing)).toMatch(/^install\s+FAIL\s+0\/1\s+4\.2s\s+1 assertion\(s\) failed$/m);
  });
});

describe("the comment's other states", () => {
  const withHistory = { ...ctx, historyUrl: "https://taster.example/prs/github/o/r/1" };
  const states = {
    running: renderRunning(
      withHistory,
      { tier: "upgrade", step: "upgrade", elapsedMs: 61_000, stages: ["install", "upgrade"] },
      none,
    ),
    cancelled: renderCancelled(withHistory, "Cancelled by @bob.", none),
    "infrastructure error": renderInfraError(withHistory, { what: "engine went away", attempts: 3 }, none),
  };

  it.each(Object.entries(states))(
    "%s: names the run, links its page, log and the PR's earlier attempts",
    (word, report) => {
      expect(report.body).toContain(`Taster: hello-web @ \`0000000000\` — ${word}`);
      expect(report.body).toContain(
        "Run `r1` · [run page](https://taster.example/runs/r1) · [full log](https://taster.example/runs/r1/log) · [earlier attempts](https://taster.example/prs/github/o/r/1)",
      );
    },
  );

  it("says what is running, for how long, and who cancelled", () => {
    expect(states.running.body).toContain("running tier **upgrade** · 1m 1s elapsed");
    expect(states.running.body).toContain("Tiers: install → **upgrade**");
    expect(states.cancelled.body).toContain(
      "Cancelled by @bob.\n\nThe run was stopped and its deployment torn down.",
    );
    expect(states["infrastructure error"].body).toContain("Tried 3 times with backoff.");
  });
});
