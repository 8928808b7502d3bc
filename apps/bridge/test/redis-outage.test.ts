import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type ForgeSim, githubCommentPayload, sendGithubWebhook, startForgeSim } from "@taster/forge-sim";
import { ensureLab } from "@taster/lab";
import type { Bridge } from "../src/index";
import { freePort, REPO, randomSha, SECRET, testBridge, testConfig, waitFor } from "./helpers";

// This test stops Redis, so it runs its OWN throwaway redis-server — never the lab's shared one.
let redisProcess: ChildProcess | undefined;
let redisPort: number;
let dataDir: string;
let sim: ForgeSim;
let bridge: Bridge;
let url: string;

/** True once something answers +PONG on the port. */
function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("error", () => resolve(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      resolve(data.toString().startsWith("+PONG"));
      socket.destroy();
    });
  });
}

async function startRedis(): Promise<void> {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(redisPort),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "yes",
      "--dir",
      dataDir,
    ],
    {
      stdio: "ignore",
    },
  );
  redisProcess = child;
  await waitFor(() => pingRedis(redisPort), "redis-server to start");
}

async function stopRedis(): Promise<void> {
  const child = redisProcess;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
  redisProcess = undefined;
}

beforeAll(async () => {
  await ensureLab();
  redisPort = await freePort();
  dataDir = await mkdtemp(join(tmpdir(), "taster-redis-outage-"));
  await startRedis();
  sim = await startForgeSim({ token: "forge-t0ken" });
  sim.state.addOrgMember("coop-cloud", "maintainer");
  bridge = await testBridge(testConfig(sim, `redis://127.0.0.1:${redisPort}`, `outage-${process.pid}`), sim);
  url = await bridge.start();
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, "bridge to reach its Redis");
  sim.addWebhook({ forge: "github", url, secret: SECRET });
  await sim.push(REPO, { number: 1, headSha: randomSha() });
});

afterAll(async () => {
  await bridge?.stop();
  await sim?.close();
  await stopRedis();
  await rm(dataDir, { recursive: true, force: true });
});

describe("Redis outage", () => {
  it("answers 503 (never a silent 2xx) while Redis is down, and accepts the same delivery once it is back", async () => {
    const c = sim.state.addComment(REPO, 1, "maintainer", "!testme");
    const payload = githubCommentPayload({
      repo: REPO,
      pr: 1,
      body: c.body,
      user: "maintainer",
      commentId: c.id,
      createdAt: c.createdAt,
    });

    await stopRedis();
    const refused = await sendGithubWebhook(url, SECRET, "issue_comment", payload, "outage-delivery-1");
    expect(refused.status).toBe(503);
    // A push cannot be recorded either: 503 too, so the forge shows the failed delivery.
    await expect(sim.push(REPO, { number: 2, headSha: randomSha() })).rejects.toThrow(/answered 503/);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);

    await startRedis();
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, "bridge to reconnect to Redis");
    const accepted = await sendGithubWebhook(url, SECRET, "issue_comment", payload, "outage-delivery-1");
    expect(accepted.status).toBe(202);
    expect(JSON.parse(accepted.body).outcome).toBe("accepted");
    const runs = bridge.queues.queueFor("lab");
    await waitFor(
      async () => (await runs.getJobs(["wait"], 0, -1)).some((j) => j.data.commentId === c.id),
      "the run to be queued",
    );
    const [job, ...others] = await runs.getJobs(["wait"], 0, -1);
    expect(others).toHaveLength(0);
    expect(job?.data).toEqual(
      expect.objectContaining({ pr: 1, commentId: c.id, deliveryId: "outage-delivery-1" }),
    );
  });

  it("recovers after an outage in which its queues were first touched (a dashboard view), instead of answering 503 for good", async () => {
    // A bridge that has not used its queues yet; during the outage someone opens the dashboard,
    // which is the first touch of the host queue, and a webhook arrives (the intake queue's).
    const fresh = await testBridge(
      testConfig(sim, `redis://127.0.0.1:${redisPort}`, `outage-first-touch-${process.pid}`),
      sim,
    );
    const freshUrl = await fresh.start();
    try {
      await waitFor(
        async () => (await fetch(`${freshUrl}/readyz`)).status === 200,
        "the bridge to reach Redis",
      );
      const head = randomSha();
      await sim.push(REPO, { number: 3, headSha: head });
      await fresh.intake.acceptPush(
        { forge: "github", repo: REPO, pr: 3, headSha: head, action: "opened" },
        Date.now(),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      const c = sim.state.addComment(REPO, 3, "maintainer", "!testme");
      const payload = githubCommentPayload({
        repo: REPO,
        pr: 3,
        body: c.body,
        user: "maintainer",
        commentId: c.id,
        createdAt: c.createdAt,
      });
      await stopRedis();
      expect((await fetch(`${freshUrl}/`)).status).toBeGreaterThanOrEqual(500);
      await fresh.settled(200).catch(() => false);
      await startRedis();
      await waitFor(
        async () => (await fetch(`${freshUrl}/readyz`)).status === 200,
        "the bridge to reconnect",
      );
      const answer = await sendGithubWebhook(freshUrl, SECRET, "issue_comment", payload, "first-touch-1");
      expect(`${answer.status} ${answer.body}`).toMatch(/^202 .*"outcome":"accepted"/);
      await waitFor(
        async () =>
          (await fresh.queues.queueFor("lab").getJobs(["wait"], 0, -1)).some(
            (j) => j.data.commentId === c.id,
          ),
        "the run to be queued",
      );
      expect((await fetch(`${freshUrl}/`)).status).toBe(200);
    } finally {
      await fresh.stop();
    }
  });
});
