import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type ForgeSim, githubCommentPayload, sendGithubWebhook, startForgeSim } from "@taster/forge-sim";
import { ensureLab } from "@taster/lab";
import { intakeIdFor } from "@taster/queue";
import { type Bridge, loadBridgeConfig } from "../src/index";
import { REPO, randomSha, SECRET, TOKEN, testBridge, testConfig, waitFor } from "./helpers";

// The production deployment: one process answers webhooks (role http), another processes them
// (role intake), sharing only Redis.
const ns = `roles-${process.pid}-${Date.now()}`;
let redisUrl: string;
/** The forge the intake role talks to. */
let forge: ForgeSim;
/** A forge the http role is pointed at: it must never see a call. */
let httpForge: ForgeSim;
let http: Bridge;
let httpUrl: string;
let intake: Bridge | undefined;
let intakeUrl: string;

beforeAll(async () => {
  redisUrl = (await ensureLab()).redisUrl;
  forge = await startForgeSim({ token: TOKEN, botLogin: "taster-bot" });
  forge.state.addOrgMember("coop-cloud", "maintainer");
  httpForge = await startForgeSim({ token: TOKEN, botLogin: "taster-bot" });
  http = await testBridge(testConfig(httpForge, redisUrl, ns, { TASTER_BRIDGE_ROLE: "http" }), httpForge);
  httpUrl = await http.start();
}, 60_000);

afterAll(async () => {
  await intake?.stop();
  await http?.queues.queueFor("lab").obliterate({ force: true });
  await http?.intakeQueue.queue.obliterate({ force: true });
  await http?.stop();
  await forge?.close();
  await httpForge?.close();
});

async function runsFor(bridge: Bridge, pr: number) {
  const jobs = await bridge.queues.queueFor("lab").getJobs(["wait", "prioritized", "delayed"], 0, -1);
  return jobs.filter((job) => job.data.pr === pr && job.data.repo === REPO);
}

describe("bridge roles: http answers, intake processes", () => {
  it("a delivery the http role accepts waits in Redis until the intake role turns it into a run", async () => {
    const pr = 1;
    const sha = randomSha();
    // The forge announces the PR to the http role, which records the push in Redis for the intake role.
    forge.addWebhook({ forge: "github", url: httpUrl, secret: SECRET });
    await forge.push(REPO, { number: pr, headSha: sha });
    const comment = forge.state.addComment(REPO, pr, "maintainer", "!testme");
    const payload = githubCommentPayload({
      repo: REPO,
      pr,
      body: "!testme",
      user: "maintainer",
      commentId: comment.id,
      createdAt: comment.createdAt,
    });

    const answer = await sendGithubWebhook(httpUrl, SECRET, "issue_comment", payload, `${ns}-d1`);
    expect(answer.status).toBe(202);
    expect(JSON.parse(answer.body)).toMatchObject({ outcome: "accepted" });
    // Nobody processes in the http role: the command waits in the intake's inbox, no run exists yet.
    expect(
      await http.intakeQueue.has(intakeIdFor({ forge: "github", repo: REPO, commentId: comment.id })),
    ).toBe(true);
    expect(await http.intakeQueue.backlog()).toBe(1);
    expect(await runsFor(http, pr)).toHaveLength(0);

    intake = await testBridge(testConfig(forge, redisUrl, ns, { TASTER_BRIDGE_ROLE: "intake" }), forge);
    intakeUrl = await intake.start();
    await waitFor(async () => (await runsFor(http, pr)).length === 1, "the intake role to enqueue the run");
    const [run] = await runsFor(http, pr);
    expect(run?.data).toMatchObject({ repo: REPO, pr, sha, requestedBy: "maintainer" });
    expect(forge.calls.some((call) => call.path.includes(`/pulls/${pr}`))).toBe(true);
    expect(httpForge.calls).toEqual([]);
  }, 60_000);

  it("each role reports its own readiness, and only the http role serves webhooks and the dashboard", async () => {
    const httpReady = await fetch(`${httpUrl}/readyz`);
    expect(httpReady.status).toBe(200);
    expect(await httpReady.json()).toMatchObject({ ok: true, role: "http", redis: "ok" });

    const intakeReady = await fetch(`${intakeUrl}/readyz`);
    expect(intakeReady.status).toBe(200);
    expect(await intakeReady.json()).toMatchObject({ ok: true, role: "intake", intakeWorker: "running" });
    expect((await fetch(`${intakeUrl}/metrics`)).status).toBe(200);
    const refused = await sendGithubWebhook(intakeUrl, SECRET, "issue_comment", {}, `${ns}-d2`);
    expect(refused.status).toBe(404);
    expect((await fetch(`${intakeUrl}/`)).status).toBe(404);
    expect((await fetch(`${httpUrl}/`)).status).toBe(200);
  });
});

describe("role configuration", () => {
  const base = { TASTER_GITHUB_WEBHOOK_SECRET: "s", TASTER_GITHUB_TOKEN: "t" };

  it("defaults to all, and rejects an unknown role by name", () => {
    expect(loadBridgeConfig(base).role).toBe("all");
    expect(() => loadBridgeConfig({ ...base, TASTER_BRIDGE_ROLE: "worker" })).toThrow(/TASTER_BRIDGE_ROLE/);
  });

  it("the http role needs a webhook secret but no forge token; the intake role needs a token but no secret", () => {
    const http = loadBridgeConfig({ TASTER_BRIDGE_ROLE: "http", TASTER_GITHUB_WEBHOOK_SECRET: "s" });
    expect(http.github?.webhookSecrets).toEqual(["s"]);
    expect(() => loadBridgeConfig({ TASTER_BRIDGE_ROLE: "http", TASTER_GITHUB_TOKEN: "t" })).toThrow(
      /no webhook secret configured/,
    );
    const intakeOnly = loadBridgeConfig({ TASTER_BRIDGE_ROLE: "intake", TASTER_GITHUB_TOKEN: "t" });
    expect(intakeOnly.github?.token).toBe("t");
    expect(() => loadBridgeConfig({ TASTER_BRIDGE_ROLE: "intake" })).toThrow(/needs a forge token/);
    expect(() =>
      loadBridgeConfig({ TASTER_BRIDGE_ROLE: "intake", TASTER_GITHUB_WEBHOOK_SECRET: "s" }),
    ).toThrow(/TASTER_GITHUB_TOKEN is required/);
    expect(() => loadBridgeConfig({ TASTER_BRIDGE_ROLE: "all", TASTER_GITHUB_WEBHOOK_SECRET: "s" })).toThrow(
      /TASTER_GITHUB_TOKEN is required/,
    );
  });
});
