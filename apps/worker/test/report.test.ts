import { describe, expect, it } from "@jest/globals";
import { Redactor } from "@taster/core";
import { type TestRow, tierStatusFromRows } from "@taster/harness";
import {
  COMMENT_LIMIT,
  type ReportContext,
  renderCancelled,
  renderConfigError,
  renderFinal,
  renderInfraError,
  renderRunning,
} from "../src/report";
import { results, tier } from "./fixtures";

const ctx: ReportContext = {
  runId: "hello-web-1-0123456789-1",
  repo: "coop-cloud/hello-web",
  pr: 1,
  sha: "0123456789abcdef0123456789abcdef01234567",
  recipe: "hello-web",
  runUrl: "https://taster.test/runs/hello-web-1-0123456789-1",
  logUrl: "https://taster.test/runs/hello-web-1-0123456789-1/log",
};
const none = new Redactor();

const failing = (name: string, failure: string) => ({
  file: "_generic/install.test.ts",
  name,
  status: "fail" as const,
  durationMs: 5,
  failure,
});

describe("the sticky comment", () => {
  it("opens every state with a heading naming the recipe and the commit", () => {
    const bodies = [
      renderRunning(
        ctx,
        { tier: "upgrade", step: "deploy", elapsedMs: 65_000, stages: ["install", "upgrade"] },
        none,
      ).body,
      renderFinal(ctx, results(), none).body,
      renderCancelled(ctx, "Superseded by a newer commit.", none).body,
      renderInfraError(ctx, { what: "engine unreachable", attempts: 3 }, none).body,
    ];
    for (const body of bodies) expect(body).toMatch(/^### \S+ Taster: hello-web @ `0123456789` — /);
  });

  it("says which tier is running, for how long, with a link to the live log", () => {
    const r = renderRunning(
      ctx,
      { tier: "backup", step: "op", elapsedMs: 125_000, stages: ["install", "backup", "restore"] },
      none,
    );
    expect(r.body).toContain("running tier **backup**");
    expect(r.body).toContain("2m 5s elapsed");
    expect(r.body).toContain(`(${ctx.logUrl})`);
    expect(r.statuses.filter((s) => !s.checkRunOnly)).toEqual([
      expect.objectContaining({ context: "taster", state: "pending" }),
    ]);
    // Check runs (GitHub App) also show each tier in progress; commit-status forges skip these.
    expect(r.statuses.filter((s) => s.checkRunOnly).map((s) => [s.context, s.description])).toEqual([
      ["taster/install", "finished, verdict after teardown"],
      ["taster/backup", "running"],
      ["taster/restore", "queued"],
    ]);
  });

  it("puts the lint row before install and the fresh row last, and lists what lint found with its rule", () => {
    const body = renderFinal(
      ctx,
      results({
        lint: {
          ...tier("pass", { reason: "1 warning(s)" }),
          findings: [
            {
              check: "healthcheck",
              severity: "warning",
              message: "the serving service app has no healthcheck",
              source: 'abra recipe lint R002 (warn): "healthcheck enabled for all services"',
            },
          ],
        },
        fresh: tier("pass", { reason: "head 1.1.0+1.1 installed from scratch on its own stack" }),
        flags: {
          deployCount: 1,
          upgradeRedeploys: 1,
          freshDeploys: 1,
          cleanTeardown: true,
          noSecretLeak: true,
        },
      }),
      none,
    ).body;
    const rows = body.split("\n").filter((l) => /^\| [a-z]+ \|/.test(l) && !l.startsWith("| tier"));
    expect(rows.map((l) => l.split(" | ")[0])).toEqual([
      "| lint",
      "| install",
      "| upgrade",
      "| backup",
      "| restore",
      "| custom",
      "| fresh",
    ]);
    expect(body).toContain("#### Lint (1)");
    expect(body).toContain("- ⚠️ warning · `healthcheck`: the serving service app has no healthcheck");
    expect(body).toContain("deploys 1 (+1 upgrade, 1 fresh)");
  });

  it("shows the level, a row per tier with result and duration, versions and links", () => {
    const body = renderFinal(
      ctx,
      results({
        level: 3,
        tiers: { custom: tier("na", { naKind: "not-applicable", reason: "no custom tests" }) },
      }),
      none,
    ).body;
    expect(body).toContain("passed, level L3");
    expect(body).toMatch(/\| install \| ✅ pass \| 1\/1 \| 4\.2s \|/);
    expect(body).toMatch(/\| custom \| ➖ n\/a \| – \| – \| no custom tests \|/);
    expect(body).toContain("base `1.0.0+1.0` → head `1.1.0+1.1-1-g0123456`");
    expect(body).toContain(`[run page](${ctx.runUrl})`);
    expect(body).toContain(`[full log](${ctx.logUrl})`);
  });

  it("names failing tests with the first lines of each failure, not the whole stack", () => {
    const trace = ["expected 200, got 502", ...Array.from({ length: 40 }, (_, i) => `    at frame${i}`)].join(
      "\n",
    );
    const body = renderFinal(
      ctx,
      results({
        outcome: "fail",
        level: 0,
        tiers: {
          install: tier("fail", { reason: "1 assertion(s) failed", tests: [failing("serves HTTP", trace)] }),
        },
      }),
      none,
    ).body;
    expect(body).toContain("failed, level L0");
    expect(body).toContain("`_generic/install.test.ts › serves HTTP`");
    expect(body).toContain("expected 200, got 502");
    expect(body).toContain("at frame0");
    expect(body).not.toContain("at frame30");
    expect(body).toContain("more lines in the full log");
  });

  it("keeps a failure's backticks from breaking out of its code block", () => {
    const body = renderFinal(
      ctx,
      results({
        outcome: "fail",
        tiers: { install: tier("fail", { tests: [failing("x", "```\n# injected heading")] }) },
      }),
      none,
    ).body;
    expect(body).not.toContain("```\n# injected");
  });

  it("fits the forge's comment limit with many huge failures, keeping the table and the log link", () => {
    const huge = "boom ".repeat(5_000);
    const tests = Array.from({ length: 400 }, (_, i) => failing(`case ${i}`, `${huge}\n${huge}`));
    const body = renderFinal(
      ctx,
      results({ outcome: "fail", level: 0, tiers: { install: tier("fail", { tests }) } }),
      none,
    ).body;
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body).toContain("| install | ❌ FAIL | 0/400 |");
    expect(body).toContain("| restore |");
    expect(body).toContain(ctx.logUrl);
    expect(body).toContain("Failures (400)");
  });

  it("explains a cancellation and an infrastructure error in words", () => {
    expect(renderCancelled(ctx, "Superseded by a newer commit `abc`.", none).body).toContain(
      "Superseded by a newer commit",
    );
    const infra = renderInfraError(ctx, { what: "Cannot connect to the Docker daemon", attempts: 3 }, none);
    expect(infra.body).toContain("not in this pull request");
    expect(infra.body).toContain("Cannot connect to the Docker daemon");
    expect(infra.body).toContain("Tried 3 times");
    expect(infra.statuses[0]).toMatchObject({ context: "taster", state: "error" });
  });

  it("renders PR text in the verdict table as the text it is: no link, mention, reference or extra cell", () => {
    // A repo-local test's name is the PR author's to choose; an unintended skip puts it in the tier's note.
    const hostile = "[click](http://evil) @org/team #1 | x";
    const rows: TestRow[] = [
      { file: "tests/taster/custom.test.ts", name: hostile, status: "skip", durationMs: 0 },
    ];
    const verdict = tierStatusFromRows(rows);
    const body = renderFinal(
      ctx,
      results({ outcome: "fail", tiers: { custom: tier(verdict.status, { ...verdict, tests: rows }) } }),
      none,
    ).body;
    const row = body.split("\n").find((line) => line.startsWith("| custom |")) ?? "";
    const cells = row.split(/(?<!\\)\|/).slice(1, -1);
    expect(cells).toHaveLength(5);
    const note = cells[4] ?? "";
    expect(note).not.toContain("[click](");
    expect(note).not.toMatch(/@org|#1|http:\/\//);
    // …and still reads as what the test is called once rendered.
    expect(note.replace(/\\(.)/g, "$1").replaceAll("\u200B", "").trim()).toBe(`unintended skip: ${hostile}`);
    // The failure list names the test in a code span, where nothing renders as a link or mention.
    expect(body).toContain(`- **custom** · \`tests/taster/custom.test.ts › ${hostile}\``);
  });

  it("redacts a secret before escaping it, so markdown escapes cannot hide it from the redactor", () => {
    const redactor = new Redactor();
    redactor.add("s3cret_[value]*");
    const body = renderFinal(
      ctx,
      results({
        outcome: "fail",
        tiers: { install: tier("fail", { reason: "token s3cret_[value]* refused" }) },
      }),
      redactor,
    ).body;
    expect(body.replace(/\\(.)/g, "$1")).not.toContain("s3cret_[value]*");
    expect(body).toContain("token \\[redacted\\] refused");
  });

  it("never lets a secret value through, in bodies or statuses", () => {
    const redactor = new Redactor();
    redactor.add("ghp_supersecrettoken");
    const leaky = results({
      outcome: "fail",
      tiers: {
        install: tier("fail", {
          reason: "ghp_supersecrettoken",
          tests: [failing("t", "token=ghp_supersecrettoken")],
        }),
      },
    });
    const final = renderFinal(ctx, leaky, redactor);
    const infra = renderInfraError(ctx, { what: "auth ghp_supersecrettoken", attempts: 1 }, redactor);
    for (const text of [
      final.body,
      infra.body,
      ...[...final.statuses, ...infra.statuses].map((s) => s.description),
    ]) {
      expect(text).not.toContain("ghp_supersecrettoken");
    }
    expect(final.body).toContain("[redacted]");
  });
});

describe("commit statuses", () => {
  it("one per tier plus a summary, with failure/success/error as a reviewer expects", () => {
    const r = renderFinal(
      ctx,
      results({
        outcome: "fail",
        level: 1,
        tiers: {
          upgrade: tier("fail", { reason: "chaos-version mismatch" }),
          backup: tier("na", { naKind: "not-applicable", reason: "not backup-capable" }),
        },
      }),
      none,
    );
    const byContext = Object.fromEntries(r.statuses.map((s) => [s.context, s]));
    expect(Object.keys(byContext).sort()).toEqual(
      [
        "taster",
        "taster/backup",
        "taster/custom",
        "taster/install",
        "taster/restore",
        "taster/upgrade",
      ].sort(),
    );
    expect(byContext["taster/install"]?.state).toBe("success");
    expect(byContext["taster/upgrade"]).toMatchObject({ state: "failure" });
    expect(byContext["taster/upgrade"]?.description).toContain("chaos-version mismatch");
    expect(byContext["taster/backup"]).toMatchObject({ state: "success" });
    expect(byContext.taster).toMatchObject({ state: "failure", description: "failed, level L1" });
    for (const s of r.statuses) {
      expect(s.description.length).toBeLessThanOrEqual(140);
      expect(s.targetUrl).toBe(ctx.runUrl);
    }
  });

  it("an errored run is `error`, never `failure`", () => {
    const r = renderFinal(ctx, results({ outcome: "error", level: 0, error: "engine unreachable" }), none);
    expect(r.statuses.find((s) => s.context === "taster")?.state).toBe("error");
  });
});

describe("what the verdict must not hide", () => {
  const tree = "5d1c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d";
  const approve = `./taster allowlist add coop-cloud/hello-web --tree ${tree} --by <your login> --why "<what you reviewed>"`;
  const denied = (t: string) => ({
    kind: "assertion" as const,
    tier: t,
    source: "repo-local" as const,
    path: `<recipe>/tests/taster/${t}.test.ts`,
    allowed: false,
    why: "not on the allowlist",
  });
  const green = results({
    tiers: {
      install: tier("pass", { deployed: "1.0.0+1.0" }),
      upgrade: tier("pass", { deployed: "→ head 0123456" }),
    },
    manifest: {
      recipe: "hello-web",
      settingsFile: null,
      upgradeBase: { base: "1.0.0+1.0", reason: "" },
      backupCapable: true,
      repoLocal: { allowed: false, why: "not on the allowlist: an admin pins it", treeHash: tree, approve },
      files: [denied("install"), denied("upgrade")],
    },
  });

  it("says that repo-local tests did not run, with the command an admin runs to approve them", () => {
    const body = renderFinal(ctx, green, none).body;
    expect(body).toContain("2 repo-local test files not run: not approved");
    expect(body).toContain(`\`${approve}\``);
  });

  it("names what each tier deployed: install deployed the base, upgrade the head", () => {
    const body = renderFinal(ctx, green, none).body;
    expect(body).toMatch(/\| install \(1\.0\.0\+1\.0\) \| ✅ pass \|/);
    expect(body).toMatch(/\| upgrade \(→ head 0123456\) \| ✅ pass \|/);
  });

  it("an error in Taster's own taster.yml is a configuration error: no level, no tier table", () => {
    const error = '/srv/taster/recipes-tests/hello-web/taster.yml: unknown key "healthPth"';
    const r = renderConfigError(
      ctx,
      results({ outcome: "error", errorKind: "config", level: 0, error }),
      none,
    );
    expect(r.body).toMatch(/— configuration error/);
    expect(r.body).toContain(error);
    expect(r.body).not.toMatch(/level|\| install/);
    expect(r.statuses.filter((s) => !s.checkRunOnly)).toEqual([
      expect.objectContaining({ context: "taster", state: "error" }),
    ]);
  });
});
