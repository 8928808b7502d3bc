/**
 * forge-sim: a small local GitHub + Gitea REST simulator for Taster's tests and demos.
 *
 *   const sim = await startForgeSim();           // { url, giteaUrl, state, calls, failNext, close }
 *   sim.state.addPull("coop-cloud/hello-web", { number: 1, headSha: "abc…" });
 *   sim.state.setPermission("coop-cloud/hello-web", "alice", "write");
 *   sim.state.addOrgMember("coop-cloud", "bob");
 *   const c = sim.state.addComment("coop-cloud/hello-web", 1, "alice", "!testme");
 *   await sendGithubWebhook(bridgeUrl, secret, "issue_comment",
 *     githubCommentPayload({ repo, pr: 1, body: c.body, user: "alice", commentId: c.id }), "delivery-1");
 *   sim.addWebhook({ forge: "github", url: bridgeUrl, secret });   // where repository events go
 *   await sim.push("coop-cloud/hello-web", { number: 1, headSha: "def…" }); // opened/synchronize webhook
 *   sim.failNext({ status: 502, count: 2 });      // or 403/429 rate limits, or { forMs }
 *   sim.calls                                     // every REST call: api, method, path, body, status
 *
 * GitHub API at `sim.url` (Octokit baseUrl), Gitea API at `sim.giteaUrl` (= url + "/api/v1").
 * Implements exactly the calls Taster makes: get/list PRs, list/create/update issue comments,
 * recent repo comments (`since`), comment reactions, commit statuses, org membership and
 * collaborator permission, and the token's user (GET /user, with X-OAuth-Scopes on GitHub). Comments, reactions and statuses Taster writes land in `sim.state`.
 * Requests must carry an Authorization header (any token unless `token` is given).
 * With `app` it is also a GitHub App's GitHub: RS256 JWTs checked against the App's public key,
 * `GET /repos/{o}/{r}/installation`, `GET /orgs/{org}/installation`, `POST /app/installations/{id}/access_tokens`
 * (tokens expire after `state.appTokenTtlMs` and are refused then), `POST/PATCH /repos/{o}/{r}/check-runs[/{id}]`
 * (installation tokens only); see `state.installApp`, `state.appTokens`, `state.checkRuns`.
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import express from "express";
import { FailureInjector, type FailureSpec } from "./failures";
import { giteaRouter } from "./gitea-api";
import { githubRouter } from "./github-api";
import { githubAppRouter, installationTokenAnswer, type SimAppOptions } from "./github-app";
import { ForgeSimState, type SimPull } from "./state";
import {
  type DeliveryResult,
  giteaPullRequestPayload,
  githubPullRequestPayload,
  sendGiteaWebhook,
  sendGithubWebhook,
} from "./webhooks";

export { jwtProblem } from "./github-app";
export * from "./state";
export * from "./webhooks";
export type { FailureSpec, SimAppOptions };

export interface RecordedCall {
  api: "github" | "gitea";
  method: string;
  /** Path without the query string; the Gitea prefix /api/v1 is kept. */
  path: string;
  query: Record<string, unknown>;
  body: unknown;
  status: number;
}

/** A repository webhook: where the simulated forge sends events, signed with `secret`. */
export interface WebhookTarget {
  forge: "github" | "gitea";
  url: string;
  secret: string;
}

export interface ForgeSim {
  url: string;
  giteaUrl: string;
  state: ForgeSimState;
  calls: RecordedCall[];
  /** Sends repository events (pushes to pull requests) to this webhook from now on. */
  addWebhook(target: WebhookTarget): void;
  /**
   * Opens PR #number at `headSha`, pushes `headSha` onto it, or reopens it, as a forge does: the
   * state changes, then every webhook gets the signed `pull_request` event (opened, synchronize,
   * reopened). Resolves once they all answered; rejects if one answered other than 2xx.
   */
  push(repo: string, pull: Partial<SimPull> & { number: number; headSha: string }): Promise<DeliveryResult[]>;
  failNext(spec: FailureSpec): void;
  clearFailures(): void;
  close(): Promise<void>;
}

export interface ForgeSimOptions {
  port?: number;
  /** When set, requests must send `Authorization: token <token>` or `Bearer <token>`. */
  token?: string;
  botLogin?: string;
  /**
   * Simulate a GitHub App: JWT-authenticated installation lookups and token issuing, installation
   * tokens (expiring after `state.appTokenTtlMs`) accepted anywhere, check runs for them only.
   */
  app?: SimAppOptions;
}

export async function startForgeSim(options: ForgeSimOptions = {}): Promise<ForgeSim> {
  const state = new ForgeSimState();
  if (options.botLogin) state.botLogin = options.botLogin;
  const calls: RecordedCall[] = [];
  const failures = new FailureInjector();
  let url = "";

  const app = express();
  app.use(express.json({ limit: "1mb" }));
  app.use((req, res, next) => {
    const api = req.path.startsWith("/api/v1/") ? "gitea" : "github";
    res.on("finish", () => {
      calls.push({
        api,
        method: req.method,
        path: req.path,
        query: { ...req.query },
        body: req.body,
        status: res.statusCode,
      });
    });
    const installation = options.app ? installationTokenAnswer(state, req.get("authorization")) : undefined;
    if (installation === false) {
      res.status(401).json({ message: "Bad credentials" });
      return;
    }
    const appRoute =
      options.app &&
      /^\/(app$|app\/|repos\/[^/]+\/[^/]+\/installation$|orgs\/[^/]+\/installation$)/.test(req.path);
    if (installation === undefined && !appRoute && !authorized(req.get("authorization"), options.token)) {
      res.status(401).json({ message: "Bad credentials" });
      return;
    }
    if (failures.intercept(req, res)) return;
    next();
  });
  app.use("/api/v1", giteaRouter(state));
  if (options.app) app.use(githubAppRouter(state, options.app));
  app.use(githubRouter(state, () => url));
  app.use((_req, res) => {
    res.status(404).json({ message: "Not Found (forge-sim does not implement this call)" });
  });

  const server = app.listen(options.port ?? 0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const hooks: WebhookTarget[] = [];
  const push: ForgeSim["push"] = async (repo, pull) => {
    const before = state.repos.get(repo)?.pulls.get(pull.number);
    const after = state.addPull(repo, { ...before, ...pull, state: pull.state ?? "open" });
    if (after.state !== "open") return [];
    const action = !before ? "opened" : before.state === "closed" ? "reopened" : "synchronize";
    const input = { repo, pr: after.number, headSha: after.headSha, headRef: after.headRef, action } as const;
    const answers = await Promise.all(
      hooks.map(async (hook) => {
        const answer =
          hook.forge === "github"
            ? await sendGithubWebhook(
                hook.url,
                hook.secret,
                "pull_request",
                githubPullRequestPayload(input),
                randomUUID(),
              )
            : await sendGiteaWebhook(
                hook.url,
                hook.secret,
                "pull_request",
                giteaPullRequestPayload(input),
                randomUUID(),
              );
        if (answer.status >= 300)
          throw new Error(
            `the pull_request ${action} webhook to ${hook.url} was answered ${answer.status}: ${answer.body}`,
          );
        return answer;
      }),
    );
    // Whatever happens next (a comment) is later by the clock too, as it would be on a real forge.
    await new Promise((resolve) => setTimeout(resolve, 2));
    return answers;
  };

  return {
    url,
    giteaUrl: `${url}/api/v1`,
    state,
    calls,
    addWebhook: (target) => hooks.push(target),
    push,
    failNext: (spec) => failures.add(spec),
    clearFailures: () => failures.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function authorized(header: string | undefined, token: string | undefined): boolean {
  if (!header) return false;
  if (!token) return true;
  return header === `token ${token}` || header === `Bearer ${token}`;
}
