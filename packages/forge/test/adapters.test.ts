import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type ForgeSim, startForgeSim } from "@taster/forge-sim";
import { type Forge, GiteaForge, GithubForge, loadTriggerers, STICKY_MARKER } from "../src/index";

const SHA = "c".repeat(40);
let sim: ForgeSim;
let repoCounter = 0;

beforeAll(async () => {
  sim = await startForgeSim({ token: "tok", botLogin: "taster-bot" });
});
afterAll(() => sim.close());

/** A fresh repo per test, so recorded state never leaks between tests. */
function seedRepo(): string {
  const repo = `coop-cloud/recipe-${++repoCounter}`;
  sim.state.addPull(repo, { number: 1, headSha: SHA });
  sim.state.addPull(repo, { number: 2, headSha: "d".repeat(40), state: "closed" });
  sim.state.setPermission(repo, "writer", "write");
  sim.state.setPermission(repo, "reader", "read");
  sim.state.addOrgMember("coop-cloud", "member");
  return repo;
}

const adapters: Array<[string, () => Forge]> = [
  [
    "github",
    () =>
      new GithubForge({
        token: "tok",
        baseUrl: sim.url,
        botLogin: "taster-bot",
        retryBaseMs: 5,
        writeMinTimeMs: 0,
        notificationsMinTimeMs: 0,
        trust: { triggerers: [{ login: "listed" }] },
      }),
  ],
  [
    "gitea",
    () =>
      new GiteaForge({
        url: sim.url,
        token: "tok",
        botLogin: "taster-bot",
        retryBaseMs: 5,
        trust: { triggerers: [{ login: "listed" }] },
      }),
  ],
];

describe.each(adapters)("%s adapter against forge-sim", (_name, make) => {
  it("resolves a PR's head sha", async () => {
    const repo = seedRepo();
    expect(await make().getPullRequest(repo, 1)).toEqual({
      number: 1,
      state: "open",
      headSha: SHA,
      headRef: "pr-1",
    });
  });

  it("keeps one status comment per PR, edited in place, even under concurrent updates", async () => {
    const repo = seedRepo();
    const forge = make();
    await forge.postComment(repo, 1, "an unrelated comment");
    const ids = await Promise.all([
      forge.upsertStickyComment(repo, 1, "queued, position 2"),
      forge.upsertStickyComment(repo, 1, "queued, position 1"),
    ]);
    const third = await forge.upsertStickyComment(repo, 1, "running");
    expect(new Set([...ids, third]).size).toBe(1);
    const sticky = sim.state.commentsOn(repo, 1).filter((c) => c.body.includes(STICKY_MARKER));
    expect(sticky).toHaveLength(1);
    expect(sticky[0]?.body).toBe(`${STICKY_MARKER}\nrunning`);
  });

  it("reacts, comments and sets commit statuses", async () => {
    const repo = seedRepo();
    const forge = make();
    const human = sim.state.addComment(repo, 1, "writer", "!testme");
    await forge.react(repo, human.id, "eyes");
    await forge.setCommitStatus(repo, SHA, {
      state: "pending",
      context: "taster",
      description: "queued",
      targetUrl: "http://x/runs/1",
    });
    expect(sim.state.reactions).toContainEqual(
      expect.objectContaining({ repo, commentId: human.id, content: "eyes" }),
    );
    expect(sim.state.statuses).toContainEqual(
      expect.objectContaining({
        repo,
        sha: SHA,
        state: "pending",
        context: "taster",
        targetUrl: "http://x/runs/1",
      }),
    );
  });

  it("trusts org members, writers and listed triggerers, not readers or strangers, and caches the answer", async () => {
    const repo = seedRepo();
    const forge = make();
    expect((await forge.isTrusted("member", repo)).trusted).toBe(true);
    expect((await forge.isTrusted("writer", repo)).trusted).toBe(true);
    expect((await forge.isTrusted("listed", repo)).trusted).toBe(true);
    expect((await forge.isTrusted("reader", repo)).trusted).toBe(false);
    const stranger = await forge.isTrusted("stranger", repo);
    expect(stranger).toEqual({ trusted: false, reason: expect.stringContaining("not a member") });
    const before = sim.calls.length;
    await forge.isTrusted("stranger", repo);
    expect(sim.calls.length).toBe(before);
  });

  it("rides out 502s and rate limits, and names the call when it finally gives up", async () => {
    const repo = seedRepo();
    const forge = make();
    sim.failNext({ status: 502, count: 2, match: `/repos/${repo}/pulls/1` });
    expect((await forge.getPullRequest(repo, 1)).headSha).toBe(SHA);
    sim.failNext({ status: 429, count: 1, match: `/repos/${repo}/pulls/1`, retryAfterSec: 1 });
    expect((await forge.getPullRequest(repo, 1)).headSha).toBe(SHA);
    sim.failNext({ status: 502, forMs: 5_000, match: `/repos/${repo}/pulls/1` });
    await expect(forge.getPullRequest(repo, 1)).rejects.toMatchObject({
      kind: "infra",
      message: expect.stringMatching(/502/),
    });
    sim.clearFailures();
  });

  it("lists recent commands on open PRs only", async () => {
    const repo = seedRepo();
    const since = new Date(Date.now() - 1_000);
    const wanted = sim.state.addComment(repo, 1, "writer", "please\n!testme upgrade");
    sim.state.addComment(repo, 1, "writer", "just a remark about !testme");
    sim.state.addComment(repo, 2, "writer", "!testme"); // closed PR
    const found = await make().listRecentCommands(repo, since);
    expect(found.map((c) => [c.id, c.pr, c.author])).toEqual([[wanted.id, 1, "writer"]]);
  });
});

describe("GitHub primary rate limit", () => {
  it("waits for the reset and retries", async () => {
    const repo = seedRepo();
    const forge = adapters[0]?.[1]() as Forge;
    sim.failNext({ status: 403, count: 1, match: `/repos/${repo}/pulls/1`, retryAfterSec: 1 });
    expect((await forge.getPullRequest(repo, 1)).headSha).toBe(SHA);
    expect(sim.calls.filter((c) => c.path === `/repos/${repo}/pulls/1`).map((c) => c.status)).toEqual([
      403, 200,
    ]);
  });
});

describe("loadTriggerers", () => {
  it("reads logins, optionally per repo, and treats a missing file as empty", async () => {
    const dir = await mkdtemp(join(tmpdir(), "triggerers-"));
    const file = join(dir, "triggerers.yml");
    await writeFile(file, "triggerers:\n  - alice\n  - login: bob\n    repos: [coop-cloud/notes]\n");
    expect(await loadTriggerers(file)).toEqual([
      { login: "alice" },
      { login: "bob", repos: ["coop-cloud/notes"] },
    ]);
    expect(await loadTriggerers(join(dir, "missing.yml"))).toEqual([]);
    await writeFile(file, "triggerers: 42\n");
    await expect(loadTriggerers(file)).rejects.toMatchObject({ kind: "usage" });
  });
});
