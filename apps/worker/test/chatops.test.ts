/**
 * The ChatOps commands on the real lab, bridge and worker together (forge simulated): a real run
 * fails a tier and `!testme failed` runs only that tier plus install; `!testme cancel` stops a
 * running run, which is torn down, and the sticky comment says who cancelled it.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "@jest/globals";
import { ensureLab, recipeRepo } from "@taster/lab";
import { type LocalStack, startLocalStack } from "../src/local-stack";
import { residue } from "./env";

let stack: LocalStack | undefined;
let scratch: string | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  if (scratch) await rm(scratch, { recursive: true, force: true });
  scratch = undefined;
});

const unique = () => `chatops-${process.pid}-${Date.now().toString(36)}`;
const botComments = (s: LocalStack) =>
  s.sim.state.commentsOn(s.repo, 1).filter((c) => c.user === "taster-bot");
const summary = (s: LocalStack, sha: string) =>
  s.sim.state.statuses.filter((x) => x.sha === sha && x.context === "taster").at(-1);

describe("ChatOps on the lab", () => {
  test("a run fails upgrade; `!testme failed` runs install + upgrade only, on the same sha, editing the one comment", async () => {
    // The lab's chatops-upgrade-fails recipe: its PR head never becomes healthy, so upgrade fails.
    scratch = await mkdtemp(join(tmpdir(), "taster-chatops-"));
    const mirror = join(scratch, "chatops-upgrade-fails.git");
    execFileSync("git", [
      "clone",
      "--quiet",
      "--mirror",
      recipeRepo(await ensureLab(), "chatops-upgrade-fails"),
      mirror,
    ]);
    const head = execFileSync("git", ["--git-dir", mirror, "rev-parse", "refs/pull/1/head"])
      .toString()
      .trim();
    const s = await startLocalStack({
      repo: `${unique()}/chatops-upgrade-fails`,
      worker: { recipeSource: () => mirror },
    });
    stack = s;
    await s.sim.push(s.repo, { number: 1, headSha: head });

    const first = await s.comment("!testme");
    expect(first.runId).toBeDefined();
    expect(await s.waitForVerdict(first.runId as string, undefined, 300_000)).toBe("failed");
    const firstRun = await s.worker.runs.getRun(first.runId as string);
    const tiers = ((firstRun?.result ?? {}) as { tiers: Record<string, { status: string }> }).tiers;
    expect({ install: tiers.install?.status, upgrade: tiers.upgrade?.status }).toEqual({
      install: "pass",
      upgrade: "fail",
    });
    const verdict = s.stickyComment() ?? "";
    expect(verdict).toContain("comment `!testme failed`");
    expect(verdict).toContain(`/prs/github/${s.repo}/1`);

    const again = await s.comment("!testme failed");
    expect(again.runId).toBeDefined();
    expect(again.runId).not.toBe(first.runId);
    const rerun = await s.worker.runs.getRun(again.runId as string);
    expect(rerun?.job).toEqual(
      expect.objectContaining({
        sha: head,
        stages: ["install", "upgrade"],
        recheckOf: { runId: first.runId, tiers: ["upgrade"] },
      }),
    );
    expect(await s.waitForVerdict(again.runId as string, undefined, 300_000)).toBe("failed");
    const retried = (await s.worker.runs.getRun(again.runId as string))?.result as {
      tiers: Record<string, { status: string; naKind?: string }>;
      stack: string;
      recheck?: unknown;
    };
    expect(retried.tiers.upgrade?.status).toBe("fail");
    // Red again on the same commit: a genuine failure, said in the results and on the PR.
    expect(retried.recheck).toEqual({ of: first.runId, tiers: { upgrade: "red-again" } });
    expect(s.stickyComment()).toContain(
      `Re-check of the tiers that failed in run \`${first.runId}\` on this commit:`,
    );
    expect(s.stickyComment()).toContain("- **upgrade** red again: a genuine failure");
    expect(retried.tiers.backup?.status).not.toBe("pass");
    expect(await residue(s.lab, retried.stack)).toEqual([]);
    // Quiet: one sticky comment for the whole PR, edited for the re-run.
    expect(botComments(s)).toHaveLength(1);
    expect(s.stickyComment()).toContain(again.runId as string);
  }, 720_000);

  test("`!testme cancel` stops a running run: torn down, and the comment and status say who", async () => {
    const s = await startLocalStack({ repo: `${unique()}/hello-web` });
    stack = s;
    s.sim.state.setPermission(s.repo, "bob", "write");
    const started = await s.comment("!testme");
    const runId = started.runId as string;
    expect(runId).toBeDefined();
    // Cancel once it is really deploying.
    const deadline = Date.now() + 120_000;
    while (!(await s.worker.logs.readLog(runId)).some((l) => l.line.includes("install › "))) {
      if (Date.now() > deadline) throw new Error("the run never started deploying");
      await new Promise((r) => setTimeout(r, 200));
    }
    const cancel = await s.comment("!testme cancel", "bob");
    expect(cancel.status).toBe(202);
    expect(await s.waitForVerdict(runId, undefined, 180_000)).toBe("cancelled");
    const run = await s.worker.runs.getRun(runId);
    expect(run?.cancelledBy).toBe("bob");
    const deployed = ((run?.result ?? {}) as { stack?: string }).stack;
    expect(deployed).toMatch(/^t[0-9a-f]{10}$/);
    expect(await residue(s.lab, deployed as string)).toEqual([]);
    expect(botComments(s)).toHaveLength(1);
    expect(s.stickyComment()).toContain("Cancelled by @bob.");
    expect(summary(s, s.headSha)).toEqual(
      expect.objectContaining({ state: "error", description: "cancelled: Cancelled by @bob." }),
    );
    const log = await s.worker.logs.readLog(runId);
    expect(log.some((l) => l.line.includes("cancelled by @bob"))).toBe(true);
  }, 300_000);

  test("`!testme quick` on a recipe with no warm known-good answers with what to do, deploying nothing", async () => {
    // hello-web has no `warm: true`, so no known-good can exist for it (warm-pg's are made in
    // packages/harness/test/warm.test.ts): the run is a configuration error, said in the comment.
    const s = await startLocalStack({ repo: `${unique()}/hello-web` });
    stack = s;
    const started = await s.comment("!testme quick");
    const runId = started.runId as string;
    expect(runId).toBeDefined();
    const run = await s.worker.runs.getRun(runId);
    expect(run?.job).toEqual(
      expect.objectContaining({ stages: ["install", "upgrade", "custom"], quick: true }),
    );
    expect(await s.waitForVerdict(runId, undefined, 120_000)).toBe("failed");
    const result = (await s.worker.runs.getRun(runId))?.result as {
      errorKind?: string;
      deployCount?: number;
    };
    expect(result.errorKind).toBe("config");
    expect(s.stickyComment()).toContain(
      "quick mode needs a warm known-good, and hello-web is not warm (no `warm: true` in recipes-tests/hello-web/taster.yml)",
    );
  }, 180_000);
});
