import { describe, expect, it } from "@jest/globals";
import { Redactor } from "@taster/core";
import {
  COMMENT_LIMIT,
  type ReportContext,
  renderFinal,
  STICKY_MARKER,
  stickyBody,
  stickyRoom,
} from "../src/index";
import { results, tier } from "./fixtures";

const none = new Redactor();
const ctx: ReportContext = {
  runId: "r-fit",
  repo: "coop-cloud/hello-web",
  pr: 7,
  sha: "0123456789abcdef0123456789abcdef01234567",
  recipe: "hello-web",
  runUrl: "https://taster.example/runs/r-fit",
  logUrl: "https://taster.example/runs/r-fit/log",
};

describe("the comment-fit policy (the forge's limit, marker counted)", () => {
  it("leaves a sticky comment that fits, marker included, whole", () => {
    const body = "x".repeat(stickyRoom());
    const sticky = stickyBody(body);
    expect(sticky).toBe(`${STICKY_MARKER}\n${body}`);
    expect(sticky.length).toBe(COMMENT_LIMIT);
  });

  it("cuts a body one character over to exactly the limit, marker first, and says so", () => {
    const sticky = stickyBody("y".repeat(stickyRoom() + 1));
    expect(sticky.length).toBe(COMMENT_LIMIT);
    expect(sticky.startsWith(`${STICKY_MARKER}\n`)).toBe(true);
    expect(sticky).toMatch(/cut to fit the forge's comment limit; the full report is on the run page\)$/);
  });

  it("renders a verdict that still fits once the forge adds the marker: nothing is cut after rendering", () => {
    // More lint findings than any comment holds: the renderer itself cuts, pointing at the full log.
    const findings = Array.from({ length: 1_000 }, (_, i) => ({
      check: `check-${i}`,
      severity: "warning" as const,
      message: "the compose file says something abra would warn about ".repeat(2),
      source: "abra recipe lint",
    }));
    const huge = results({ outcome: "fail", level: 0, lint: { ...tier("pass"), findings } });
    const body = renderFinal(ctx, huge, none).body;
    expect(body.length).toBeLessThanOrEqual(stickyRoom());
    const posted = stickyBody(body);
    expect(posted).toBe(`${STICKY_MARKER}\n${body}`);
    expect(posted.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(posted).toMatch(
      /… truncated; see the \[full log\]\(https:\/\/taster\.example\/runs\/r-fit\/log\)\.$/,
    );
  });

  it("shrinks failure detail to the room left by the marker under a smaller forge limit", () => {
    const limit = 6_000;
    const tests = Array.from({ length: 40 }, (_, i) => ({
      file: "_generic/install.test.ts",
      name: `case ${i}`,
      status: "fail" as const,
      durationMs: 1,
      failure: "boom ".repeat(200),
    }));
    const body = renderFinal(
      ctx,
      results({ outcome: "fail", level: 0, tiers: { install: tier("fail", { tests }) } }),
      none,
      limit,
    ).body;
    const posted = stickyBody(body, limit);
    expect(posted).toBe(`${STICKY_MARKER}\n${body}`);
    expect(posted.length).toBeLessThanOrEqual(limit);
    // The table and the tail survive; the failure list gave way first.
    expect(body).toContain("| install | ❌ FAIL | 0/40 |");
    expect(body).toContain("run `r-fit`");
    expect(body).toContain("Failures (40)");
  });
});
