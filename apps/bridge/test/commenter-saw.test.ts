/**
 * A run tests the code its trusted commenter saw (issue 12, finding 3): a push after the comment
 * is never run under it, whichever way the comment arrives, and an old comment never runs at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { STICKY_MARKER } from "@taster/forge";
import {
  type ForgeSim,
  githubCommentPayload,
  githubPullRequestPayload,
  sendGithubWebhook,
  startForgeSim,
} from "@taster/forge-sim";
import { ensureLab } from "@taster/lab";
import { connectRedis, intakeIdFor, Keys, type Redis } from "@taster/queue";
import type { Bridge } from "../src/index";
import { GITEA_REPO, REPO, randomSha, SECRET, testBridge, testConfig } from "./helpers";

const ns = `saw-${process.pid}-${Date.now()}`;
const HOUR = 3600 * 1000;
let sim: ForgeSim;
let bridge: Bridge;
let url: string;
let redis: Redis;
let prCounter = 0;
let deliveryCounter = 0;

const delivery = () => `${ns}-d${++deliveryCounter}`;
const post = (payload: unknown, id = delivery()) =>
  sendGithubWebhook(url, SECRET, "issue_comment", payload, id);

/** A PR opened on the forge, whose `pull_request` webhook reached the bridge. */
async function newPr(): Promise<{ pr: number; sha: string }> {
  const pr = ++prCounter;
  const sha = randomSha();
  await sim.push(REPO, { number: pr, headSha: sha });
  return { pr, sha };
}

/** A maintainer's comment on the forge (written `agoMs` ago), and the webhook payload for it. */
function comment(pr: number, body: string, agoMs = 0) {
  const c = sim.state.addComment(REPO, pr, "maintainer", body);
  if (agoMs) c.createdAt = new Date(Date.now() - agoMs).toISOString();
  const payload = githubCommentPayload({
    repo: REPO,
    pr,
    body,
    user: "maintainer",
    commentId: c.id,
    createdAt: c.createdAt,
  });
  return { id: c.id, payload };
}

async function runsFor(pr: number) {
  expect(await bridge.settled()).toBe(true);
  const jobs = await bridge.queues
    .queueFor("lab")
    .getJobs(["wait", "active", "delayed", "prioritized"], 0, -1);
  return jobs.filter((j) => j.data.pr === pr && j.data.repo === REPO).map((j) => j.data.sha);
}

/** What the bot said on the PR, besides its sticky status comment. */
const replies = (pr: number) =>
  sim.state
    .commentsOn(REPO, pr)
    .filter((c) => c.user === "taster-bot" && !c.body.includes(STICKY_MARKER))
    .map((c) => c.body);

const outcomeOf = (answer: { body: string }) =>
  JSON.parse(answer.body) as { outcome: string; reason?: string };

beforeAll(async () => {
  const lab = await ensureLab();
  redis = connectRedis(lab.redisUrl);
  sim = await startForgeSim({ token: "forge-t0ken", botLogin: "taster-bot" });
  sim.state.addOrgMember("coop-cloud", "maintainer");
  sim.state.addRepo(GITEA_REPO); // enrolled too: the reconciler reads it
  bridge = await testBridge(testConfig(sim, lab.redisUrl, ns), sim);
  url = await bridge.start();
  sim.addWebhook({ forge: "github", url, secret: SECRET });
});

afterAll(async () => {
  await bridge.settled();
  await bridge.stop();
  const keys = await redis.keys(`${ns}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await sim.close();
});

describe("a push after the maintainer's !testme", () => {
  it("is not run (webhook path): one reply gives the exact `!testme <sha>` to copy", async () => {
    const { pr } = await newPr();
    const c = comment(pr, "!testme upgrade");
    const pushed = randomSha();
    await sim.push(REPO, { number: pr, headSha: pushed }); // right after the comment
    expect((await post(c.payload)).status).toBe(202);
    expect(await runsFor(pr)).toEqual([]);
    expect(replies(pr)).toHaveLength(1);
    expect(replies(pr)[0]).toContain(`\`\`\`\n!testme ${pushed} install,upgrade\n\`\`\``);
    expect(replies(pr)[0]).toContain("pushed after");
    // A redelivery of the same comment does not make the bot say it again.
    await post(c.payload);
    expect(await runsFor(pr)).toEqual([]);
    expect(replies(pr)).toHaveLength(1);
    // The maintainer reviews the new head and copies the command: exactly that commit runs.
    expect((await post(comment(pr, `!testme ${pushed} install,upgrade`).payload)).status).toBe(202);
    expect(await runsFor(pr)).toEqual([pushed]);
  });

  it("is not run when the comment's webhook was lost and the reconciler finds it later", async () => {
    const { pr } = await newPr();
    comment(pr, "!testme"); // on the forge; its webhook never arrives
    const pushed = randomSha();
    await sim.push(REPO, { number: pr, headSha: pushed });
    expect((await bridge.reconciler.reconcile()).failures).toEqual([]);
    expect(await runsFor(pr)).toEqual([]);
    expect(replies(pr)).toEqual([expect.stringContaining(`\`\`\`\n!testme ${pushed}\n\`\`\``)]);
    await bridge.reconciler.reconcile(); // another pass says nothing more
    expect(await runsFor(pr)).toEqual([]);
    expect(replies(pr)).toHaveLength(1);
  });

  it("is not run when no push of the head was ever recorded (its webhook was lost too)", async () => {
    const { pr } = await newPr();
    const pushed = randomSha();
    sim.state.addPull(REPO, { number: pr, headSha: pushed }); // pushed, but the bridge never heard of it
    await post(comment(pr, "!testme").payload);
    expect(await runsFor(pr)).toEqual([]);
    expect(replies(pr)).toEqual([expect.stringContaining(`!testme ${pushed}`)]);
    expect(replies(pr)[0]).toContain("cannot tell when");
  });
});

describe("!testme <sha>", () => {
  it("runs when the head is that commit (a full sha needs no push record)", async () => {
    const { pr, sha } = await newPr();
    expect((await post(comment(pr, `!testme ${sha.slice(0, 7)}`).payload)).status).toBe(202);
    expect(await runsFor(pr)).toEqual([sha]);
    const unannounced = randomSha();
    sim.state.addPull(REPO, { number: pr, headSha: unannounced });
    await post(comment(pr, `!testme ${unannounced.toUpperCase()}`).payload);
    expect(await runsFor(pr)).toEqual([unannounced]);
    expect(replies(pr)).toEqual([]);
  });

  it("does not run when the head is another commit, and says the head moved without repeating the sha given", async () => {
    const { pr, sha } = await newPr();
    const c = comment(pr, `!testme ${sha}`);
    const pushed = randomSha();
    await sim.push(REPO, { number: pr, headSha: pushed });
    await post(c.payload);
    await post(c.payload); // redelivered: still one reply
    expect(await runsFor(pr)).toEqual([]);
    expect(replies(pr)).toHaveLength(1);
    expect(replies(pr)[0]).toContain("the head moved");
    expect(replies(pr)[0]).toContain(`!testme ${pushed}`);
    expect(replies(pr)[0]).not.toContain(sha);
  });

  it("does not run a matching short sha pushed after the comment (a crafted commit can match 7 hex digits)", async () => {
    const { pr } = await newPr();
    const crafted = randomSha();
    const c = comment(pr, `!testme ${crafted.slice(0, 7)}`);
    await sim.push(REPO, { number: pr, headSha: crafted });
    await post(c.payload);
    expect(await runsFor(pr)).toEqual([]);
    expect(replies(pr)).toEqual([expect.stringContaining(`!testme ${crafted}`)]);
  });
});

describe("a comment older than TASTER_MAX_COMMENT_AGE_SEC (6 h)", () => {
  it("never runs: webhook, redelivery, reconciler, or a command that waited too long to be processed", async () => {
    const { pr, sha } = await newPr();
    const old = comment(pr, "!testme", 7 * HOUR);
    for (const answer of [await post(old.payload), await post(old.payload)]) {
      expect(answer.status).toBe(200);
      expect(outcomeOf(answer)).toEqual({
        outcome: "ignored",
        reason: "comment older than TASTER_MAX_COMMENT_AGE_SEC",
      });
    }
    // The reconciler sees it too (edited recently, so it is in its window).
    const forgotten = comment(pr, "!testme", 7 * HOUR);
    const edited = sim.state.findComment(REPO, forgotten.id);
    if (edited) edited.updatedAt = new Date().toISOString();
    await bridge.reconciler.reconcile();
    expect(await bridge.intakeQueue.seenComment("github", REPO, forgotten.id)).toBe(false);
    // A command accepted in time but processed past the limit (a backlog, an outage).
    const late = await bridge.handler.process({
      forge: "github",
      repo: REPO,
      pr,
      commentId: 987_654_321,
      author: "maintainer",
      deliveryId: delivery(),
      command: { kind: "run", stages: ["install"] },
      receivedAt: new Date().toISOString(),
      commentCreatedAt: new Date(Date.now() - 7 * HOUR).toISOString(),
    });
    expect(late.outcome).toBe("refused");
    expect(await runsFor(pr)).toEqual([]);
    expect(replies(pr)).toEqual([]);
    // Nothing wrong with the PR itself: a fresh comment runs its head.
    await post(comment(pr, "!testme").payload);
    expect(await runsFor(pr)).toEqual([sha]);
    const metrics = await bridge.metrics.registry.getSingleMetricAsString("taster_commands_refused_total");
    expect(metrics).toMatch(/taster_commands_refused_total\{reason="too-old"\} [3-9]/);
  });

  it("closes the replay of a captured signed delivery once its seen-once keys have expired (8 days)", async () => {
    const { pr, sha } = await newPr();
    // Written just under the limit (naming the head, which was pushed later than that): accepted
    // now, too old a few seconds later.
    const c = comment(pr, `!testme ${sha}`, 6 * HOUR - 2_500);
    const id = delivery();
    expect(outcomeOf(await post(c.payload, id)).outcome).toBe("accepted");
    expect(await runsFor(pr)).toEqual([sha]);
    await bridge.queues.queueFor("lab").obliterate({ force: true });
    // Eight days later (simulated): the seen-once keys and the finished intake job are gone.
    const keys = new Keys(ns);
    await redis.del(keys.intakeDelivery("github", id), keys.intakeComment("github", REPO, c.id));
    await (
      await bridge.intakeQueue.queue.getJob(intakeIdFor({ forge: "github", repo: REPO, commentId: c.id }))
    )?.remove();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // The attacker replays the very same signed bytes, same delivery id.
    const replay = await post(c.payload, id);
    expect(replay.status).toBe(200);
    expect(outcomeOf(replay).outcome).toBe("ignored");
    expect(await runsFor(pr)).toEqual([]);
  });
});

describe("push records", () => {
  it("are kept only for enrolled repos, only for actions that move the head", async () => {
    const elsewhere = githubPullRequestPayload({
      repo: "elsewhere/other",
      pr: 1,
      headSha: randomSha(),
      action: "opened",
    });
    const answer = await sendGithubWebhook(url, SECRET, "pull_request", elsewhere, delivery());
    expect([answer.status, outcomeOf(answer)]).toEqual([
      200,
      { outcome: "ignored", reason: "repository not enrolled" },
    ]);
    const labeled = {
      ...githubPullRequestPayload({ repo: REPO, pr: 1, headSha: randomSha(), action: "opened" }),
      action: "labeled",
    };
    expect(outcomeOf(await sendGithubWebhook(url, SECRET, "pull_request", labeled, delivery())).outcome).toBe(
      "ignored",
    );
    expect(await redis.keys(`${ns}:pushes:github:elsewhere/*`)).toEqual([]);
  });
});
