import { describe, expect, it } from "@jest/globals";
import { SWEEP_SCHEMA_VERSION, type Sweep, type SweepRow } from "@taster/contracts";
import { sweepTable } from "../src/index";

const row = (recipe: string, warm?: SweepRow["warm"]): SweepRow => ({
  recipe,
  repo: `lab/${recipe}`,
  version: "0.3.0+1.2",
  base: "0.2.0+1.1",
  sha: "a".repeat(40),
  level: 4,
  verdict: "pass",
  tiers: {},
  classification: null,
  startedAt: "2026-12-02T09:00:00.000Z",
  durationMs: 1000,
  ...(warm ? { warm } : {}),
});

const sweep = (recipes: SweepRow[]): Sweep => ({
  schemaVersion: SWEEP_SCHEMA_VERSION,
  host: "unix:///var/run/docker.sock",
  startedAt: "2026-12-02T09:00:00.000Z",
  finishedAt: "2026-12-02T09:10:00.000Z",
  attempts: 2,
  recipes,
});

describe("the sweep table's warm known-goods", () => {
  it("says for each warm recipe what became of its known-good, with the reason and log of a failed advance", () => {
    const text = sweepTable(
      sweep([
        row("plain"),
        row("first", { action: "kept", version: "0.1.0+1.0", from: null }),
        row("moved", {
          action: "advanced",
          version: "0.3.0+1.2",
          from: "0.2.0+1.1",
          results: "moved/warm/results.json",
          log: "moved/warm/run.log",
        }),
        row("stuck", {
          action: "advance-failed",
          version: "0.2.0+1.1",
          from: "0.2.0+1.1",
          reason: "upgrade failed: service app did not converge",
          log: "stuck/warm/run.log",
        }),
        row("same", { action: "unchanged", version: "0.3.0+1.2", from: "0.3.0+1.2" }),
      ]),
    );
    const section = text.slice(text.indexOf("warm known-goods:"));
    expect(section.split("\n")).toEqual([
      "warm known-goods:",
      "  first: kept 0.1.0+1.0 as the known-good",
      "  moved: advanced 0.2.0+1.1 → 0.3.0+1.2 — moved/warm/run.log",
      "  stuck: advance failed, known-good stays 0.2.0+1.1: upgrade failed: service app did not converge — stuck/warm/run.log",
      "  same: unchanged at 0.3.0+1.2",
    ]);
  });

  it("has no warm section when no recipe is warm", () => {
    expect(sweepTable(sweep([row("plain")]))).not.toContain("warm known-goods");
  });
});
