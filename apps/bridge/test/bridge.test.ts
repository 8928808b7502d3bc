import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { STICKY_MARKER } from "@taster/forge";
import {
  type ForgeSim,
  giteaCommentPayload,
  githubCommentPayload,
  githubPullRequestPayload,
  sendGiteaWebhook,
  sendGithubWebhook,
  signGithub,
  startForgeSim,
} from "@taster/forge-sim";
import { ensureLab } from "@taster/lab";
import { intakeIdFor } from "@taster/queue";
import type { Bridge } from "../src/index";
import {
  closeTestBridge,
  GITEA_REPO,
  GITEA_SECRET,
  OLD_SECRET,
  REPO,
  randomSha,
  SECRET,
  testBridge,
  testConfig,
  waitFor,
} from "./helpers";

const ns = `btest-${process.pid}-${Date.now()}`;
let sim: ForgeSim;
let bridge: Bridge;
let url: string;
let prCounter = 0;
let deliveryCounter = 0;

const delivery = () => `${ns}-d${++deliveryCounter}`;

/**
 * A fresh open PR on the simulated forge, announced to the bridge by its `pull_request` webhook;
 * each test gets its own, so assertions never collide.
 */
async function newPr(repo = REPO): Promise<{ pr: number; sha: string }> {
  const pr = ++prCounter;
  const sha = randomSha();
  await sim.push(repo, { number: pr, headSha: sha });
  return { pr, sha };
}

/** A comment as it lands on the forge, plus GitHub's webhook payload for it. */
function comment(pr: number, body: string, user = "maintainer", repo = REPO) {
  const c = sim.state.addComment(repo, pr, user, body);
  const payload = githubCommentPayload({ repo, pr, body, user, commentId: c.id, createdAt: c.createdAt });
  return { id: c.id, payload };
}

async function jobsFor(pr: number, repo = REPO) {
  const jobs = await bridge.queues
    .queueFor("lab")
    .getJobs(["wait", "active", "delayed", "prioritized"], 0, -1);
  return jobs.filter((j) => j.data.pr === pr && j.data.repo === repo);
}

/** The run jobs of a PR once processing has caught up (the webhook answer comes before them). */
async function settledJobsFor(pr: number, repo = REPO) {
  expect(await bridge.settled()).toBe(true);
  return jobsFor(pr, repo);
}

async function waitForJobs(pr: number, count: number, repo = REPO) {
  await waitFor(async () => (await jobsFor(pr, repo)).length === count, `${count} job(s) for PR ${pr}`);
  return jobsFor(pr, repo);
}

/** Whether the intake holds a processing job for this comment (it must not after a rejected delivery). */
async function intakeHas(commentId: number, repo = REPO, forge = "github") {
  return bridge.intakeQueue.has(intakeIdFor({ forge, repo, commentId }));
}

const post = (payload: unknown, id = delivery(), secret = SECRET) =>
  sendGithubWebhook(url, secret, "issue_comment", payload, id);

beforeAll(async () => {
  const lab = await ensureLab();
  sim = await startForgeSim({ token: "forge-t0ken", botLogin: "taster-bot" });
  sim.state.addOrgMember("coop-cloud", "maintainer");
  sim.state.setPermission(REPO, "writer", "write");
  sim.state.setPermission(REPO, "reader", "read");
  sim.state.setPermission(GITEA_REPO, "writer", "write");
  bridge = await testBridge(testConfig(sim, lab.redisUrl, ns), sim);
  url = await bridge.start();
  sim.addWebhook({ forge: "github", url, secret: SECRET });
  sim.addWebhook({ forge: "gitea", url, secret: GITEA_SECRET });
});

afterAll(async () => {
  await closeTestBridge(bridge, sim, (await ensureLab()).redisUrl, ns);
});

describe("a trusted !testme on a PR", () => {
  it("is answered 202 at once, then queued for the PR's head sha and acknowledged on the PR", async () => {
    const { pr, sha } = await newPr();
    const c = comment(pr, "Thanks!\n\n!testme upgrade,backup");
    const response = await post(c.payload);
    expect(response.status).toBe(202);
    expect(JSON.parse(response.body)).toEqual(
      expect.objectContaining({ outcome: "accepted", intakeId: expect.any(String) }),
    );

    const [job, ...others] = await waitForJobs(pr, 1);
    expect(others).toHaveLength(0);
    expect(job?.data).toEqual(
      expect.objectContaining({
        forge: "github",
        repo: REPO,
        pr,
        sha,
        recipe: "hello-web",
        stages: ["install", "upgrade", "backup"],
        host: "lab",
        commentId: c.id,
        requestedBy: "maintainer",
      }),
    );
    const runId = job?.id;

    expect(await bridge.settled()).toBe(true);
    expect(sim.state.reactions).toContainEqual(expect.objectContaining({ commentId: c.id, content: "eyes" }));
    const sticky = sim.state.commentsOn(REPO, pr).filter((x) => x.body.includes(STICKY_MARKER));
    expect(sticky).toHaveLength(1);
    expect(sticky[0]?.body).toContain("queued, position");
    expect(sticky[0]?.body).toContain(`https://taster.test/runs/${runId}`);
    expect(sim.state.statuses).toContainEqual(
      expect.objectContaining({
        sha,
        state: "pending",
        context: "taster",
        targetUrl: `https://taster.test/runs/${runId}`,
      }),
    );
  });

  it("queues `!testme fresh` with every tier plus the opt-in fresh stage", async () => {
    const { pr } = await newPr();
    expect((await post(comment(pr, "!testme fresh").payload)).status).toBe(202);
    const [job] = await waitForJobs(pr, 1);
    expect(job?.data.stages).toEqual(["install", "upgrade", "backup", "restore", "custom", "fresh"]);
    expect(await bridge.settled()).toBe(true);
  });

  it("accepts deliveries signed with a previous (rotated) secret", async () => {
    const { pr } = await newPr();
    const response = await post(comment(pr, "!testme").payload, delivery(), OLD_SECRET);
    expect(response.status).toBe(202);
    expect(await waitForJobs(pr, 1)).toHaveLength(1);
  });

  it("coalesces a second comment for the same sha and lets a newer sha supersede the queued run", async () => {
    const { pr } = await newPr();
    await post(comment(pr, "!testme").payload);
    const [first] = await waitForJobs(pr, 1);
    expect(JSON.parse((await post(comment(pr, "!testme").payload)).body).outcome).toBe("accepted");
    expect((await settledJobsFor(pr)).map((j) => j.id)).toEqual([first?.id]);

    await sim.push(REPO, { number: pr, headSha: randomSha() }); // the author pushed again
    await post(comment(pr, "!testme").payload);
    await waitFor(async () => (await jobsFor(pr)).some((j) => j.id !== first?.id), "the newer run");
    const jobs = await settledJobsFor(pr);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.id).not.toBe(first?.id);
    expect((await bridge.queues.runs.getRun(String(first?.id)))?.state).toBe("superseded");
    const sticky = sim.state.commentsOn(REPO, pr).filter((x) => x.body.includes(STICKY_MARKER));
    expect(sticky).toHaveLength(1);
    expect(sticky[0]?.body).toContain(`replaces run \`${first?.id}\``);
  });
});

describe("once a worker has the run", () => {
  it("a repeated !testme does not turn the worker's progress comment back into 'queued'", async () => {
    const { pr, sha } = await newPr();
    await post(comment(pr, "!testme").payload);
    const [job] = await waitForJobs(pr, 1);
    const runId = String(job?.id);
    expect(await bridge.settled()).toBe(true);
    expect(await bridge.queues.runs.markRunning(runId)).toBe(true);
    // What the worker publishes once it has the run.
    const target = { runId, forge: "github", repo: REPO, pr, sha };
    await bridge.queues.reports.publish(target, { body: "running: install", statuses: [] }, "running");
    expect(await bridge.settled()).toBe(true);
    const sticky = () => sim.state.commentsOn(REPO, pr).filter((x) => x.body.includes(STICKY_MARKER));
    expect(sticky().map((c) => c.body)).toEqual([`${STICKY_MARKER}\nrunning: install`]);

    await post(comment(pr, "!testme").payload); // coalesces onto the running run
    expect(await bridge.settled()).toBe(true);
    expect(sticky().map((c) => c.body)).toEqual([`${STICKY_MARKER}\nrunning: install`]);
  });
});

describe("duplicates", () => {
  it("turns 100 concurrent deliveries of one delivery id, across two bridges, into exactly one job", async () => {
    const lab = await ensureLab();
    const twin = await testBridge(testConfig(sim, lab.redisUrl, ns), sim);
    const twinUrl = await twin.start();
    try {
      const { pr } = await newPr();
      const c = comment(pr, "!testme");
      const id = delivery();
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          sendGithubWebhook(i % 2 === 0 ? url : twinUrl, SECRET, "issue_comment", c.payload, id),
        ),
      );
      expect(new Set(responses.map((r) => r.status))).toEqual(new Set([202]));
      const outcomes = responses.map((r) => JSON.parse(r.body).outcome);
      expect(outcomes.filter((o) => o === "accepted")).toHaveLength(1);
      expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(99);
      await waitForJobs(pr, 1);
      expect(await twin.settled()).toBe(true);
      expect(await settledJobsFor(pr)).toHaveLength(1);
      expect(sim.state.reactions.filter((r) => r.commentId === c.id)).toHaveLength(1);
    } finally {
      await twin.stop();
    }
  });

  it("handles the same comment once whether it arrives by webhook or by the reconciler", async () => {
    const { pr } = await newPr();
    const c = comment(pr, "!testme");
    // The reconciler races the webhook's processing on purpose.
    const [response, report] = await Promise.all([post(c.payload), bridge.reconciler.reconcile()]);
    expect(response.status).toBe(202);
    expect(report.failures).toEqual([]);
    await waitForJobs(pr, 1);
    expect((await bridge.reconciler.reconcile()).failures).toEqual([]);
    expect(await settledJobsFor(pr)).toHaveLength(1);
  });

  it("recovers a !testme whose webhook never arrived, exactly once", async () => {
    const { pr, sha } = await newPr();
    const lost = comment(pr, "!testme restore"); // on the forge, but the delivery was lost
    const first = await bridge.reconciler.reconcile();
    expect(first.recovered).toBeGreaterThanOrEqual(1);
    const jobs = await waitForJobs(pr, 1);
    expect(jobs.map((j) => [j.data.sha, j.data.commentId, j.data.stages])).toEqual([
      [sha, lost.id, ["install", "restore"]],
    ]);
    // The late webhook and later passes change nothing.
    expect(JSON.parse((await post(lost.payload)).body).outcome).toBe("duplicate");
    await bridge.reconciler.reconcile();
    expect(await settledJobsFor(pr)).toHaveLength(1);
  });
});

describe("bad input changes nothing", () => {
  it("answers a bad signature with 401", async () => {
    const { pr } = await newPr();
    const c = comment(pr, "!testme");
    const response = await post(c.payload, delivery(), "wrong-secret");
    expect(response.status).toBe(401);
    expect(await intakeHas(c.id)).toBe(false);
    expect(await settledJobsFor(pr)).toHaveLength(0);
  });

  it("answers malformed JSON (validly signed) with 400, wrong content type with 415, a huge body with 413", async () => {
    const { pr } = await newPr();
    const send = (body: string, contentType: string, signature = signGithub(SECRET, body)) =>
      fetch(`${url}/webhooks/github`, {
        method: "POST",
        headers: {
          "content-type": contentType,
          "x-github-event": "issue_comment",
          "x-github-delivery": delivery(),
          "x-hub-signature-256": signature,
        },
        body,
      });
    expect((await send('{"action": "created", "issue": {', "application/json")).status).toBe(400);
    const c = comment(pr, "!testme");
    const valid = JSON.stringify(c.payload);
    expect(
      (await send(`payload=${encodeURIComponent(valid)}`, "application/x-www-form-urlencoded")).status,
    ).toBe(415);
    const hugeComment = comment(pr, "!testme");
    const huge = JSON.stringify({ ...hugeComment.payload, padding: "x".repeat(2 * 1024 * 1024) });
    expect((await send(huge, "application/json")).status).toBe(413);
    expect((await send(valid, "application/json", "sha256=")).status).toBe(401);
    const notAComment = JSON.stringify({ action: "created", hello: "world" });
    expect((await send(notAComment, "application/json")).status).toBe(400);
    expect(await intakeHas(c.id)).toBe(false);
    expect(await intakeHas(hugeComment.id)).toBe(false);
    expect(await settledJobsFor(pr)).toHaveLength(0);
  });

  it("answers a delivery without event headers with 400", async () => {
    const body = "{}";
    const response = await fetch(`${url}/webhooks/github`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": signGithub(SECRET, body) },
      body,
    });
    expect(response.status).toBe(400);
  });
});

describe("who may trigger, and what is ignored", () => {
  it("replies once per untrusted commenter on a PR and queues nothing", async () => {
    const { pr } = await newPr();
    const first = await post(comment(pr, "!testme", "reader").payload);
    const again = await post(comment(pr, "!testme", "reader").payload);
    const second = await post(comment(pr, "!testme", "drive-by").payload);
    expect([first.status, again.status, second.status]).toEqual([202, 202, 202]);
    expect(await bridge.settled()).toBe(true);
    const replies = sim.state.commentsOn(REPO, pr).filter((c) => c.user === "taster-bot");
    expect(replies).toHaveLength(2);
    expect(replies[0]?.body).toContain("Thanks @reader");
    expect(replies[1]?.body).toContain("Thanks @drive-by");
    expect(replies[0]?.body).toContain("allowlist/triggerers.yml");
    expect(await jobsFor(pr)).toHaveLength(0);
    const metrics = await bridge.metrics.registry.getSingleMetricAsString("taster_untrusted_attempts_total");
    expect(metrics).toMatch(/taster_untrusted_attempts_total\{forge="github"\} [2-9]/);
  });

  it("answers !testme help (and an unknown stage) with usage, and queues nothing", async () => {
    const { pr } = await newPr();
    await post(comment(pr, "!testme help").payload);
    expect(await bridge.settled()).toBe(true);
    await post(comment(pr, "!testme deploy-prod").payload);
    expect(await bridge.settled()).toBe(true);
    const replies = sim.state.commentsOn(REPO, pr).filter((c) => c.user === "taster-bot");
    expect(replies).toHaveLength(2);
    expect(replies[0]?.body).toContain("!testme upgrade,backup");
    // The unknown stage is named as such, in Taster's words: the comment's text is never repeated.
    expect(replies[1]?.body).toContain("unknown tier");
    expect(replies[1]?.body).not.toContain("deploy-prod");
    expect(await jobsFor(pr)).toHaveLength(0);
    // A retry or a reconciler pass does not answer the same comment twice.
    await bridge.reconciler.reconcile();
    expect(await bridge.settled()).toBe(true);
    expect(sim.state.commentsOn(REPO, pr).filter((c) => c.user === "taster-bot")).toHaveLength(2);
  });

  it("says nothing at all to an untrusted commenter's `!testme help` or unknown stage", async () => {
    const { pr } = await newPr();
    for (const body of [
      "!testme help",
      "!testme deploy-prod",
      "!testme [win](https://evil.test) @coop-cloud/all",
    ]) {
      expect((await post(comment(pr, body, "drive-by").payload)).status).toBe(202);
    }
    expect(await bridge.settled()).toBe(true);
    expect(sim.state.commentsOn(REPO, pr).filter((c) => c.user === "taster-bot")).toEqual([]);
    expect(await jobsFor(pr)).toHaveLength(0);
  });

  it("never repeats the commenter's text in a reply (links, @team mentions)", async () => {
    const { pr } = await newPr();
    await post(comment(pr, "!testme [win a prize](https://evil.test) @coop-cloud/all").payload);
    expect(await bridge.settled()).toBe(true);
    const replies = sim.state.commentsOn(REPO, pr).filter((c) => c.user === "taster-bot");
    expect(replies).toHaveLength(1);
    expect(replies[0]?.body).toContain(
      "unknown tier. Known tiers: install, upgrade, backup, restore, custom",
    );
    for (const echo of ["evil.test", "win a prize", "@coop-cloud/all"])
      expect(replies[0]?.body).not.toContain(echo);
  });

  it("ignores commands hidden in HTML comments and <details> blocks", async () => {
    const { pr } = await newPr();
    for (const body of [
      "Looks fine <!--\n!testme\n-->",
      "<details><summary>build log</summary>\n\n!testme\n</details>",
    ]) {
      const answer = await post(comment(pr, body).payload);
      expect([answer.status, JSON.parse(answer.body).outcome]).toEqual([200, "ignored"]);
    }
    expect(await settledJobsFor(pr)).toHaveLength(0);
  });

  it("refuses, without a word on the PR, a !testme on a repo that is not enrolled", async () => {
    const repo = "coop-cloud/not-enrolled"; // reached through an org-wide webhook
    const { pr } = await newPr(repo);
    const answer = await post(comment(pr, "!testme", "maintainer", repo).payload);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ outcome: "ignored", reason: "repository not enrolled" });
    expect(await settledJobsFor(pr, repo)).toHaveLength(0);
    expect(sim.state.commentsOn(repo, pr).filter((c) => c.user === "taster-bot")).toEqual([]);
    const metrics = await bridge.metrics.registry.getSingleMetricAsString("taster_commands_refused_total");
    expect(metrics).toMatch(/taster_commands_refused_total\{reason="not-enrolled"\} [1-9]/);
  });

  it("ignores edits, plain issues, closed PRs, bots, quoted commands and chatter", async () => {
    const { pr } = await newPr();
    const closed = await newPr();
    const cases = [
      githubCommentPayload({
        repo: REPO,
        pr,
        body: "!testme",
        user: "maintainer",
        commentId: 9_000_001,
        action: "edited",
      }),
      githubCommentPayload({
        repo: REPO,
        pr,
        body: "!testme",
        user: "maintainer",
        commentId: 9_000_002,
        onPullRequest: false,
      }),
      githubCommentPayload({ repo: REPO, pr, body: "!testme", user: "taster-bot", commentId: 9_000_003 }),
      githubCommentPayload({
        repo: REPO,
        pr,
        body: "> !testme\nwhy did this fail?",
        user: "maintainer",
        commentId: 9_000_004,
      }),
      githubCommentPayload({ repo: REPO, pr, body: "LGTM", user: "maintainer", commentId: 9_000_005 }),
      githubCommentPayload({
        repo: REPO,
        pr: closed.pr,
        body: "!testme",
        user: "maintainer",
        commentId: 9_000_006,
        prState: "closed",
      }),
    ];
    for (const payload of cases) {
      const response = await post(payload);
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body).outcome).toBe("ignored");
    }
    expect(await settledJobsFor(pr)).toHaveLength(0);
    expect(await jobsFor(closed.pr)).toHaveLength(0);
  });

  it("queues nothing for a PR the API says was closed after the comment", async () => {
    const { pr, sha } = await newPr();
    const c = comment(pr, "!testme");
    sim.state.addPull(REPO, { number: pr, headSha: sha, state: "closed" });
    expect((await post(c.payload)).status).toBe(202);
    expect(await settledJobsFor(pr)).toHaveLength(0);
    expect(sim.state.commentsOn(REPO, pr).filter((x) => x.user === "taster-bot")).toHaveLength(0);
  });
});

describe("Gitea / Forgejo", () => {
  it("queues a trusted !testme from a signed Gitea webhook and rejects a bad signature", async () => {
    const { pr, sha } = await newPr(GITEA_REPO);
    const c = sim.state.addComment(GITEA_REPO, pr, "writer", "!testme");
    const payload = giteaCommentPayload({
      repo: GITEA_REPO,
      pr,
      body: c.body,
      user: "writer",
      commentId: c.id,
    });
    expect((await sendGiteaWebhook(url, "wrong", "issue_comment", payload, delivery())).status).toBe(401);
    expect(await intakeHas(c.id, GITEA_REPO, "gitea")).toBe(false);
    const response = await sendGiteaWebhook(url, GITEA_SECRET, "issue_comment", payload, delivery());
    expect(response.status).toBe(202);
    const [job] = await waitForJobs(pr, 1, GITEA_REPO);
    expect(job?.data).toEqual(expect.objectContaining({ forge: "gitea", sha, recipe: "notes" }));
    expect(await bridge.settled()).toBe(true);
    expect(sim.state.reactions).toContainEqual(
      expect.objectContaining({ repo: GITEA_REPO, commentId: c.id, content: "eyes" }),
    );
    expect(sim.state.statuses).toContainEqual(
      expect.objectContaining({ repo: GITEA_REPO, sha, state: "pending" }),
    );
  });
});

describe("when the forge has a bad minute", () => {
  it("answers 202 even while the head sha cannot be read, and queues the run once the forge recovers", async () => {
    const { pr, sha } = await newPr();
    const c = comment(pr, "!testme");
    const pullPath = `/repos/${REPO}/pulls/${pr}`;
    sim.failNext({ status: 502, forMs: 60_000, match: pullPath });
    const response = await post(c.payload);
    expect(response.status).toBe(202);
    // Processing keeps trying (with backoff) while the forge fails…
    await waitFor(
      async () => sim.calls.filter((call) => call.path === pullPath && call.status === 502).length >= 8,
      "several failed attempts to read the head sha",
    );
    expect(await jobsFor(pr)).toHaveLength(0);
    sim.clearFailures();
    // …and the command is not lost: no redelivery, no reconciler pass needed.
    const [job] = await waitForJobs(pr, 1);
    expect(job?.data).toEqual(expect.objectContaining({ sha, commentId: c.id }));
  });

  it("still queues the job when every acknowledgement call fails", async () => {
    const { pr } = await newPr();
    sim.failNext({ status: 502, forMs: 60_000, match: /POST|PATCH/ });
    const response = await post(comment(pr, "!testme").payload);
    await waitForJobs(pr, 1);
    expect(await bridge.settled()).toBe(true);
    sim.clearFailures();
    expect(response.status).toBe(202);
    expect(await jobsFor(pr)).toHaveLength(1);
    const metrics = await bridge.metrics.registry.getSingleMetricAsString(
      "taster_acknowledgement_failures_total",
    );
    expect(metrics).toMatch(/taster_acknowledgement_failures_total [1-9]/);
  });

  it("records a command it gave up on after the last attempt, and the reconciler still recovers it", async () => {
    const lab = await ensureLab();
    const impatientNs = `${ns}-impatient`;
    const impatient = await testBridge(testConfig(sim, lab.redisUrl, impatientNs), sim, undefined, {
      attempts: 2,
      backoffMs: 50,
    });
    const impatientUrl = await impatient.start();
    try {
      const { pr, sha } = await newPr();
      // This bridge keeps its own records: the forge's push webhook reaches it too.
      const push = githubPullRequestPayload({ repo: REPO, pr, headSha: sha, action: "opened" });
      await sendGithubWebhook(impatientUrl, SECRET, "pull_request", push, delivery());
      const c = comment(pr, "!testme");
      sim.failNext({ status: 502, forMs: 60_000, match: `/repos/${REPO}/pulls/${pr}` });
      const response = await sendGithubWebhook(impatientUrl, SECRET, "issue_comment", c.payload, delivery());
      expect(response.status).toBe(202);
      await waitFor(async () => {
        const text = await impatient.metrics.registry.getSingleMetricAsString("taster_intake_failures_total");
        return /taster_intake_failures_total\{forge="github"\} 1/.test(text);
      }, "the give-up to be counted");
      sim.clearFailures();
      const runs = impatient.queues.queueFor("lab");
      expect((await runs.getJobs(["wait"], 0, -1)).filter((j) => j.data.pr === pr)).toHaveLength(0);
      const report = await impatient.reconciler.reconcile();
      expect(report.failures).toEqual([]);
      await waitFor(
        async () => (await runs.getJobs(["wait"], 0, -1)).some((j) => j.data.commentId === c.id),
        "the reconciler to recover the command",
      );
    } finally {
      await impatient.settled();
      await impatient.stop(); // its keys share this file's namespace prefix: afterAll removes them
    }
  });
});

describe("health and metrics", () => {
  it("serves /healthz, /readyz and Prometheus metrics", async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(
      /taster_webhook_deliveries_total\{forge="github",event="issue_comment",outcome="accepted"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /taster_webhook_deliveries_total\{forge="github",event="issue_comment",outcome="bad-signature"\} [1-9]/,
    );
    expect(metrics).toMatch(/taster_jobs_enqueued_total\{host="lab"\} [1-9]/);
    expect(metrics).toMatch(/taster_jobs_deduplicated_total\{reason="duplicate"\} [1-9]/);
    expect(metrics).toMatch(/taster_jobs_deduplicated_total\{reason="coalesced"\} [1-9]/);
    expect(metrics).toMatch(/taster_jobs_superseded_total [1-9]/);
    expect(metrics).toMatch(/taster_untrusted_attempts_total\{forge="github"\} [1-9]/);
    expect(metrics).toContain("taster_webhook_handling_seconds_bucket");
    expect(metrics).not.toContain(SECRET);
  });
});

describe("the dashboard on the bridge", () => {
  it("shows a queued run, its run page and a badge, without leaking the bridge's secrets", async () => {
    const { pr } = await newPr();
    await post(comment(pr, "!testme").payload);
    const runId = String((await waitForJobs(pr, 1))[0]?.id);
    const home = await (await fetch(`${url}/`)).text();
    expect(home).toContain(`/runs/${runId}`);
    const page = await fetch(`${url}/runs/${runId}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(REPO);
    const badge = await fetch(`${url}/badges/hello-web.svg`);
    expect(badge.headers.get("content-type")).toContain("image/svg+xml");
    for (const text of [home, await badge.text()]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain("forge-t0ken");
    }
  });
});
