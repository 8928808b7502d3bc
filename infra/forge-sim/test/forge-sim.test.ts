import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type ForgeSim, githubCommentPayload, sendGithubWebhook, startForgeSim } from "../src/index";

let sim: ForgeSim;
const auth = { authorization: "token t0ken", "content-type": "application/json" };
const REPO = "coop-cloud/hello-web";
type Pull = { head: { sha: string } };

beforeAll(async () => {
  sim = await startForgeSim({ token: "t0ken" });
  sim.state.addPull(REPO, { number: 1, headSha: "a".repeat(40) });
  sim.state.setPermission(REPO, "alice", "write");
  sim.state.addOrgMember("coop-cloud", "bob");
});
afterAll(() => sim.close());

describe("forge-sim", () => {
  it("answers GitHub and Gitea calls from its state and records them", async () => {
    const pr = (await (await fetch(`${sim.url}/repos/${REPO}/pulls/1`, { headers: auth })).json()) as Pull;
    expect(pr.head.sha).toBe("a".repeat(40));
    const giteaPr = (await (
      await fetch(`${sim.giteaUrl}/repos/${REPO}/pulls/1`, { headers: auth })
    ).json()) as Pull;
    expect(giteaPr.head.sha).toBe("a".repeat(40));
    const created = await fetch(`${sim.url}/repos/${REPO}/issues/1/comments`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ body: "hello" }),
    });
    expect(created.status).toBe(201);
    expect(sim.state.commentsOn(REPO, 1).map((c) => [c.user, c.body])).toEqual([["taster-bot", "hello"]]);
    expect((await fetch(`${sim.url}/orgs/coop-cloud/members/bob`, { headers: auth })).status).toBe(204);
    expect((await fetch(`${sim.url}/orgs/coop-cloud/members/eve`, { headers: auth })).status).toBe(404);
    const perm = await fetch(`${sim.url}/repos/${REPO}/collaborators/alice/permission`, { headers: auth });
    expect(((await perm.json()) as { permission: string }).permission).toBe("write");
    expect(sim.calls.map((c) => `${c.api} ${c.method} ${c.status}`)).toContain("gitea GET 200");
  });

  it("rejects calls without the token", async () => {
    expect((await fetch(`${sim.url}/repos/${REPO}/pulls/1`)).status).toBe(401);
  });

  it("fails the next calls on request, with rate-limit headers", async () => {
    sim.failNext({ status: 403, count: 1, match: "GET /repos", retryAfterSec: 5 });
    sim.failNext({ status: 502, count: 1, match: "/pulls/1" });
    // Failures apply in the order they were asked for.
    const limited = await fetch(`${sim.url}/repos/${REPO}/pulls/1`, { headers: auth });
    expect(limited.status).toBe(403);
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    const bad = await fetch(`${sim.url}/repos/${REPO}/pulls/1`, { headers: auth });
    expect(bad.status).toBe(502);
    expect((await fetch(`${sim.url}/repos/${REPO}/pulls/1`, { headers: auth })).status).toBe(200);
  });

  it("signs webhooks the way GitHub does", async () => {
    const received: { headers: Record<string, unknown>; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(202).end("ok");
      });
    }).listen(0, "127.0.0.1");
    await new Promise((resolve) => receiver.once("listening", resolve));
    const payload = githubCommentPayload({ repo: REPO, pr: 1, body: "!testme", user: "alice", commentId: 7 });
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const result = await sendGithubWebhook(url, "s3cret", "issue_comment", payload, "d-1");
    receiver.close();
    expect(result.status).toBe(202);
    const [delivery] = received;
    const expected = `sha256=${createHmac("sha256", "s3cret")
      .update(delivery?.body ?? "")
      .digest("hex")}`;
    expect(delivery?.headers["x-hub-signature-256"]).toBe(expected);
    expect(delivery?.headers["x-github-delivery"]).toBe("d-1");
    const sent = JSON.parse(delivery?.body ?? "{}");
    expect(sent.issue.pull_request.url).toContain("/pulls/1");
    expect(sent.comment.body).toBe("!testme");
    expect(sent.repository.full_name).toBe(REPO);
  });

  it("sends pull_request webhooks when a PR is opened, pushed to or reopened", async () => {
    const received: { event: unknown; type: unknown; body: Record<string, unknown> }[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        const event = req.headers["x-github-event"] ?? req.headers["x-gitea-event"];
        received.push({ event, type: req.headers["x-gitea-event-type"], body: JSON.parse(body) });
        res.writeHead(200).end("ok");
      });
    }).listen(0, "127.0.0.1");
    await new Promise((resolve) => receiver.once("listening", resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    sim.addWebhook({ forge: "github", url, secret: "s" });
    sim.addWebhook({ forge: "gitea", url, secret: "g" });
    const [a, b] = ["a", "b"].map((x) => x.repeat(40));
    await sim.push(REPO, { number: 7, headSha: a as string });
    await sim.push(REPO, { number: 7, headSha: b as string });
    sim.state.addPull(REPO, { number: 7, headSha: b as string, state: "closed" });
    await sim.push(REPO, { number: 7, headSha: b as string });
    receiver.close();
    const seen = received.map((r) => [
      r.event,
      r.type ?? "",
      r.body.action,
      (r.body.pull_request as { head: { sha: string } }).head.sha[0],
    ]);
    // Each push goes to both webhooks at once, in no particular order between them.
    expect(seen).toHaveLength(6);
    expect(seen).toEqual(
      expect.arrayContaining([
        ["pull_request", "", "opened", "a"],
        ["pull_request", "pull_request", "opened", "a"],
        ["pull_request", "", "synchronize", "b"],
        ["pull_request", "pull_request_sync", "synchronized", "b"],
        ["pull_request", "", "reopened", "b"],
        ["pull_request", "pull_request", "reopened", "b"],
      ]),
    );
    expect(sim.state.repos.get(REPO)?.pulls.get(7)?.headSha).toBe(b);
  });
});
