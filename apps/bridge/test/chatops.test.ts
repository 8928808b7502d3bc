/**
 * `!testme retry`, `!testme failed`, `!testme cancel`, the PR history page, and "quiet by default"
 * (one reply per untrusted commenter per PR per day), against real Redis and the simulated forge.
 * Runs are finished here by writing their results the way the worker does (RunStore.saveResult);
 * the worker side (a real run failing a tier, a running run cancelled and torn down) is
 * apps/worker/test/chatops.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { STICKY_MARKER } from "@taster/forge";
import { type ForgeSim, githubCommentPayload, sendGithubWebhook, startForgeSim } from "@taster/forge-sim";
import { ensureLab } from "@taster/lab";
import { connectRedis } from "@taster/queue";
import { results, tier } from "../../../packages/report/test/fixtures";
import type { Bridge } from "../src/index";
import { closeTestBridge, REPO, randomSha, SECRET, testBridge, testConfig, waitFor } from "./helpers";

const ns = `chatops-${process.pid}-${Date.now()}`;
let sim: ForgeSim;
let bridge: Bridge;
let url: string;
let prCounter = 0;
let deliveryCounter = 0;

async function newPr(): Promise<{ pr: number; sha: string }> {
  const pr = ++prCounter;
  const sha = randomSha();
  await sim.push(REPO, { number: pr, headSha: sha });
  return { pr, sha };
}

/** Posts a comment as `user` and waits until the bridge has done all it will do about it. */
async function say(pr: number, body: string, user = "maintainer"): Promise<void> {
  const c = sim.state.addComment(REPO, pr, user, body);
  const payload = githubCommentPayload({
    repo: REPO,
    pr,
    body,
    user,
    commentId: c.id,
    createdAt: c.createdAt,
  });
  const response = await sendGithubWebhook(
    url,
    SECRET,
    "issue_comment",
    payload,
    `${ns}-d${++deliveryCounter}`,
  );
  expect(response.status).toBe(202);
  expect(await bridge.settled()).toBe(true);
}

const botComments = (pr: number) => sim.state.commentsOn(REPO, pr).filter((c) => c.user === "taster-bot");
const replies = (pr: number) => botComments(pr).filter((c) => !c.body.includes(STICKY_MARKER));
const sticky = (pr: number) => botComments(pr).filter((c) => c.body.includes(STICKY_MARKER));

async function queuedJobs(pr: number) {
  const jobs = await bridge.queues
    .queueFor("lab")
    .getJobs(["wait", "active", "delayed", "prioritized"], 0, -1);
  return jobs.filter((j) => j.data.pr === pr && j.data.repo === REPO);
}

/** The PR's runs, newest first, as the history page and the commands read them. */
const runsOf = (pr: number) => bridge.queues.runs.pullRuns("github", REPO, pr);

/** Finishes the PR's newest run the way the worker does, with these results. */
async function finishNewest(pr: number, verdict: ReturnType<typeof results>): Promise<string> {
  const [run] = await runsOf(pr);
  if (!run) throw new Error(`PR ${pr} has no run`);
  await bridge.queues.queueFor("lab").remove(run.runId);
  await bridge.queues.runs.saveResult(run.runId, verdict, verdict.outcome === "pass" ? "done" : "failed");
  return run.runId;
}

const upgradeFails = () =>
  results({
    outcome: "fail",
    level: 1,
    tiers: {
      upgrade: tier("fail", { reason: "the head does not come up" }),
      backup: tier("skip"),
      restore: tier("skip"),
    },
  });

beforeAll(async () => {
  const lab = await ensureLab();
  sim = await startForgeSim({ token: "forge-t0ken", botLogin: "taster-bot" });
  sim.state.addOrgMember("coop-cloud", "maintainer");
  sim.state.addOrgMember("coop-cloud", "alice");
  sim.state.setPermission(REPO, "reader", "read");
  bridge = await testBridge(testConfig(sim, lab.redisUrl, ns), sim);
  url = await bridge.start();
  sim.addWebhook({ forge: "github", url, secret: SECRET });
});

afterAll(async () => {
  await closeTestBridge(bridge, sim, (await ensureLab()).redisUrl, ns);
});

describe("!testme retry", () => {
  it("runs the last run's stages again on the PR's current head, editing the one sticky comment", async () => {
    const { pr } = await newPr();
    await say(pr, "!testme upgrade,backup");
    await finishNewest(pr, upgradeFails());
    const newHead = randomSha();
    await sim.push(REPO, { number: pr, headSha: newHead });
    await say(pr, "!testme retry");
    const [job, ...others] = await queuedJobs(pr);
    expect(others).toHaveLength(0);
    expect(job?.data).toEqual(
      expect.objectContaining({
        sha: newHead,
        stages: ["install", "upgrade", "backup"],
        requestedBy: "maintainer",
      }),
    );
    // Quiet: the re-run edits the sticky comment; no new comment.
    expect(sticky(pr)).toHaveLength(1);
    expect(replies(pr)).toEqual([]);
    expect(sticky(pr)[0]?.body).toContain(`Requested by @maintainer for \`${newHead.slice(0, 12)}\``);
  });

  it("says once that there is nothing to retry on a PR Taster never ran", async () => {
    const { pr } = await newPr();
    await say(pr, "!testme retry");
    expect(await queuedJobs(pr)).toHaveLength(0);
    expect(replies(pr).map((c) => c.body)).toEqual([
      "Nothing to retry: Taster has no earlier run of this pull request. Comment `!testme` to start one.",
    ]);
  });
});

describe("!testme failed", () => {
  it("runs only the tier that failed on this sha, plus install (not the tiers its failure skipped)", async () => {
    const { pr, sha } = await newPr();
    await say(pr, "!testme");
    await finishNewest(pr, upgradeFails());
    await say(pr, "!testme failed");
    const [job, ...others] = await queuedJobs(pr);
    expect(others).toHaveLength(0);
    expect(job?.data).toEqual(expect.objectContaining({ sha, stages: ["install", "upgrade"] }));
    expect(replies(pr)).toEqual([]);
  });

  it("runs exactly the failed tier plus install when nothing else was kept from running", async () => {
    const { pr, sha } = await newPr();
    await say(pr, "!testme");
    await finishNewest(pr, results({ outcome: "fail", level: 3, tiers: { custom: tier("fail") } }));
    await say(pr, "!testme failed");
    const [job] = await queuedJobs(pr);
    expect(job?.data).toEqual(expect.objectContaining({ sha, stages: ["install", "custom"] }));
  });

  it("starts nothing and says so when the last run on this sha had no failing tier", async () => {
    const { pr, sha } = await newPr();
    await say(pr, "!testme");
    const runId = await finishNewest(pr, results());
    await say(pr, "!testme failed");
    expect(await queuedJobs(pr)).toHaveLength(0);
    expect(await runsOf(pr)).toHaveLength(1);
    expect(replies(pr).map((c) => c.body)).toEqual([
      `Nothing to re-run: no tier failed in the last run on \`${sha.slice(0, 12)}\` (run \`${runId}\`). Comment \`!testme retry\` to run it all again.`,
    ]);
  });
});

describe("!testme quick", () => {
  it("queues the head for an upgrade of the warm known-good: install, upgrade and custom, marked quick", async () => {
    const { pr, sha } = await newPr();
    await say(pr, "!testme quick");
    const [job, ...others] = await queuedJobs(pr);
    expect(others).toHaveLength(0);
    expect(job?.data).toEqual(
      expect.objectContaining({ sha, stages: ["install", "upgrade", "custom"], quick: true }),
    );
    expect(replies(pr)).toEqual([]);
  });
});

describe("!testme cancel", () => {
  it("stops a queued run: it leaves the queue, and the sticky comment and status say who cancelled it", async () => {
    const { pr, sha } = await newPr();
    await say(pr, "!testme");
    const [queued] = await queuedJobs(pr);
    expect(queued).toBeDefined();
    await say(pr, "!testme cancel", "alice");
    expect(await queuedJobs(pr)).toHaveLength(0);
    const [run] = await runsOf(pr);
    expect(run).toEqual(
      expect.objectContaining({ runId: queued?.id, state: "cancelled", cancelledBy: "alice" }),
    );
    await waitFor(
      async () => sticky(pr)[0]?.body.includes("cancelled") ?? false,
      "the sticky comment to say cancelled",
    );
    expect(sticky(pr)).toHaveLength(1);
    expect(sticky(pr)[0]?.body).toContain("Cancelled by @alice before it started.");
    expect(sticky(pr)[0]?.body).toContain(`https://taster.test/prs/github/${REPO}/${pr}`);
    expect(sim.state.statuses.filter((s) => s.sha === sha && s.context === "taster").at(-1)).toEqual(
      expect.objectContaining({
        state: "error",
        description: "cancelled: Cancelled by @alice before it started.",
      }),
    );
    expect(replies(pr)).toEqual([]);
    // A second cancel finds nothing to stop, and says who stopped it.
    await say(pr, "!testme cancel");
    expect(replies(pr).map((c) => c.body)).toEqual([
      "Nothing to cancel: @alice cancelled this pull request's run already.",
    ]);
    // A new !testme on the same sha starts a new run (the cancelled one covers nothing any more).
    await say(pr, "!testme");
    const [again] = await queuedJobs(pr);
    expect(again?.id).not.toBe(queued?.id);
  });

  it("with nothing to cancel gets one clear reply", async () => {
    const { pr } = await newPr();
    await say(pr, "!testme cancel");
    expect(replies(pr).map((c) => c.body)).toEqual([
      "Nothing to cancel: no run of this pull request is queued or running.",
    ]);
  });
});

describe("trust and quiet by default", () => {
  it("never lets an untrusted commenter retry, re-run or cancel", async () => {
    const { pr } = await newPr();
    await say(pr, "!testme");
    await finishNewest(pr, upgradeFails());
    await say(pr, "!testme upgrade");
    const [queued] = await queuedJobs(pr);
    for (const body of ["!testme cancel", "!testme retry", "!testme failed"]) await say(pr, body, "drive-by");
    expect((await queuedJobs(pr)).map((j) => j.id)).toEqual([queued?.id]);
    const [run] = await runsOf(pr);
    expect(run).toEqual(expect.objectContaining({ runId: queued?.id, state: "queued" }));
    expect(run?.cancelledBy).toBeUndefined();
  });

  it("replies at most once per untrusted commenter per PR per day", async () => {
    const { pr } = await newPr();
    await say(pr, "!testme", "reader");
    await say(pr, "!testme", "reader");
    await say(pr, "!testme cancel", "reader");
    await say(pr, "!testme", "drive-by");
    await say(pr, "!testme retry", "drive-by");
    const bodies = replies(pr).map((c) => c.body);
    expect(bodies).toHaveLength(2);
    expect(bodies[0]).toContain("Thanks @reader!");
    expect(bodies[1]).toContain("Thanks @drive-by!");
    expect(await queuedJobs(pr)).toHaveLength(0);
    // The reply key is a SET NX EX of one day: tomorrow the same commenter is told again.
    const redis = connectRedis((await ensureLab()).redisUrl);
    await waitFor(async () => redis.status === "ready", "Redis");
    const ttl = await redis.ttl(`${ns}:once:untrusted:github:${REPO}#${pr}:reader`);
    redis.disconnect();
    expect(ttl).toBeGreaterThan(24 * 3600 - 60);
    expect(ttl).toBeLessThanOrEqual(24 * 3600);
  });
});

describe("the PR history page", () => {
  it("lists the PR's runs newest first with sha, stages, verdict, time and a link to each run page", async () => {
    const { pr, sha } = await newPr();
    await say(pr, "!testme");
    const first = await finishNewest(pr, upgradeFails());
    await say(pr, "!testme failed");
    const [second] = await runsOf(pr);
    const response = await fetch(`${url}/prs/github/${REPO}/${pr}`);
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain(`${REPO}#${pr}`);
    const rows = [...page.matchAll(/<tr data-run="([^"]+)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((r) => r[1])).toEqual([second?.runId, first]);
    expect(rows[0]?.[2]).toContain("<td>install → upgrade</td>");
    expect(rows[0]?.[2]).toContain("queued");
    expect(rows[1]?.[2]).toContain("at upgrade");
    expect(rows[1]?.[2]).toContain(sha.slice(0, 10));
    expect(rows[1]?.[2]).toContain(`href="/runs/${first}"`);
    expect(rows[1]?.[2]).toContain("@maintainer");
    // Anything that is not a PR of a known forge is a plain 404, never echoed unescaped.
    expect((await fetch(`${url}/prs/github/${REPO}/99999`)).status).toBe(404);
    const hostile = await fetch(`${url}/prs/github/%3Cscript%3E/x/1`);
    expect(hostile.status).toBe(404);
    expect(await hostile.text()).not.toContain("<script>");
    expect((await fetch(`${url}/prs/bitbucket/${REPO}/${pr}`)).status).toBe(404);
    // Each run page links back to the PR's history.
    const runPage = await (await fetch(`${url}/runs/${first}`)).text();
    expect(runPage).toContain(`<a href="/prs/github/${REPO}/${pr}">all its runs</a>`);
  });
});
