/**
 * Reports go back to the forge the command came from. A GitHub PR and a Gitea PR run on the same
 * host (one worker, both forges configured): each verdict lands on its own forge's API and nothing
 * crosses. And a Gitea-only Taster (no GitHub variable at all) takes a PR from its signed webhook
 * to its verdict on the Gitea API.
 */
import { afterAll, describe, expect, test } from "@jest/globals";
import type { RecordedCall } from "@taster/forge-sim";
import { type LocalStack, startLocalStack } from "../src/local-stack";
import { recipeSources } from "../src/recipe-source";
import { startEnv, waitFor } from "./env";

const owner = `forges-${process.pid}-${Date.now().toString(36)}`;
const stacks: LocalStack[] = [];
afterAll(async () => {
  for (const stack of stacks) await stack.close();
});

/** The simulator's calls that touched `repo` (its REST paths name it). */
const callsOn = (stack: LocalStack, repo: string): RecordedCall[] =>
  stack.sim.calls.filter((c) => c.path.includes(`/repos/${repo}/`));
const writes = (calls: RecordedCall[]) => calls.filter((c) => c.method !== "GET");

describe("each run reports to its own forge", () => {
  test("a GitHub PR and a Gitea PR on the same host: each verdict on its own forge, nothing crossed", async () => {
    const githubRepo = `${owner}/hello-web`;
    const giteaRepo = `${owner}-gitea/hello-web`;
    const stack = await startLocalStack({ repo: githubRepo, forge: "github", otherForgeRepo: giteaRepo });
    stacks.push(stack);
    expect([...stack.repos]).toEqual([
      [githubRepo, "github"],
      [giteaRepo, "gitea"],
    ]);

    const onGithub = await stack.comment("!testme install", "alice", githubRepo);
    const onGitea = await stack.comment("!testme install", "alice", giteaRepo);
    expect(onGithub).toMatchObject({ status: 202, runId: expect.any(String) });
    expect(onGitea).toMatchObject({ status: 202, runId: expect.any(String) });
    const states = await Promise.all(
      [onGithub, onGitea].map((a) => stack.waitForVerdict(a.runId as string, undefined, 300_000)),
    );
    expect(states).toEqual(["done", "done"]);

    for (const repo of [githubRepo, giteaRepo]) {
      expect(stack.stickyComment(repo)).toContain("passed");
      expect(Object.fromEntries(stack.statuses(repo).map((s) => [s.context, s.state]))).toMatchObject({
        taster: "success",
        "taster/install": "success",
      });
    }
    // Every write about the GitHub PR went through the GitHub API, every one about the Gitea PR
    // through the Gitea API (/api/v1): the verdict of one never reached the other forge.
    const github = writes(callsOn(stack, githubRepo));
    const gitea = writes(callsOn(stack, giteaRepo));
    expect(github.map((c) => c.api)).not.toContain("gitea");
    expect(gitea.map((c) => `${c.api} ${c.method} ${c.path}`).filter((c) => !c.startsWith("gitea "))).toEqual(
      [],
    );
    for (const calls of [github, gitea]) {
      expect(calls.some((c) => /\/statuses\//.test(c.path))).toBe(true);
      expect(calls.some((c) => /\/comments/.test(c.path))).toBe(true);
    }
  }, 600_000);

  test("a Gitea-only Taster: signed Gitea webhook → verdict on the Gitea API, no GitHub call", async () => {
    const repo = `${owner}-only/hello-web`;
    const stack = await startLocalStack({ repo, forge: "gitea" });
    stacks.push(stack);
    const answer = await stack.comment("!testme");
    expect(answer).toMatchObject({ status: 202, outcome: "accepted", runId: expect.any(String) });
    const state = await stack.waitForVerdict(answer.runId as string, undefined, 300_000);
    expect({ state, comment: state === "done" ? "" : stack.stickyComment() }).toEqual({
      state: "done",
      comment: "",
    });

    const body = stack.stickyComment() ?? "";
    expect(body).toContain("passed, level L4");
    expect(stack.sim.state.commentsOn(repo, 1).filter((c) => c.user === "taster-bot")).toHaveLength(1);
    const statuses = Object.fromEntries(stack.statuses().map((s) => [s.context, s.state]));
    expect(statuses.taster).toBe("success");
    expect(stack.sim.state.reactions.some((r) => r.repo === repo && r.content === "eyes")).toBe(true);
    // The whole loop (intake's reads and trust check, the reaction, the queued comment, the worker's
    // progress and verdict) spoke Gitea only.
    expect(stack.sim.calls.filter((c) => c.api !== "gitea").map((c) => `${c.method} ${c.path}`)).toEqual([]);
    // (the simulator records a Gitea call's path without its /api/v1 prefix, and its api as "gitea")
    const paths = stack.sim.calls.map((c) => `${c.api} ${c.method} ${c.path}`);
    expect(paths).toContain(`gitea GET /repos/${repo}/pulls/1`);
    expect(paths).toContain(`gitea PATCH /repos/${repo}/issues/comments/${stickyId(stack, repo)}`);
    expect(paths).toContain(`gitea POST /repos/${repo}/statuses/${stack.headSha}`);
  }, 600_000);
});

describe("a run of a forge the worker has no credentials for", () => {
  test("ends with a configuration error naming the variables, and nothing is posted to the other forge", async () => {
    const env = await startEnv();
    try {
      const log: string[] = [];
      // A GitHub-only worker, as `taster worker` builds it from a GitHub-only configuration.
      const worker = env.worker({
        recipeSource: recipeSources({ githubApiUrl: env.sim.url }),
        log: (line) => log.push(line),
      });
      await worker.ready();
      const giteaRepo = `${env.repo.split("/")[0]}-gitea/hello-web`;
      env.sim.state.addPull(giteaRepo, { number: 1, headSha: env.prHead });
      const { runId } = await env.queues.enqueue({
        forge: "gitea",
        repo: giteaRepo,
        pr: 1,
        sha: env.prHead,
        recipe: "hello-web",
        stages: ["install"],
        host: env.host,
        commentId: 1,
        deliveryId: `gitea-${env.keyPrefix}`,
        requestedBy: "alice",
        requestedAt: new Date().toISOString(),
      });
      const run = await waitFor(
        "the run to end",
        async () => {
          const r = await worker.runs.getRun(runId);
          return r && ["done", "failed"].includes(r.state) ? r : undefined;
        },
        60_000,
      );
      expect(run.state).toBe("failed");
      expect((run.result as { error?: string }).error).toBe(
        "the run came from gitea, which this worker is not configured for: set TASTER_GITEA_URL and TASTER_GITEA_TOKEN on the worker",
      );
      await waitFor(
        "the worker to log the undeliverable report",
        () => log.some((l) => l.includes("which this worker has no credentials for")),
        30_000,
      );
      expect(log.find((l) => l.includes("no credentials for"))).toContain(
        '"fix":"set TASTER_GITEA_URL and TASTER_GITEA_TOKEN"',
      );
      expect(writes(env.sim.calls)).toEqual([]);
    } finally {
      await env.close();
    }
  }, 120_000);
});

const stickyId = (stack: LocalStack, repo: string) =>
  stack.sim.state.commentsOn(repo, 1).find((c) => c.user === "taster-bot")?.id;
