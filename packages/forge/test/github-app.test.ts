/**
 * GitHub as an App against forge-sim: installation tokens (looked up per repository, renewed
 * before they expire), check runs created once and updated in place, and the token/App choice.
 */
import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type ForgeSim, startForgeSim } from "@taster/forge-sim";
import { GithubForge, githubReportMode } from "../src/index";

const SHA = "a".repeat(40);
const APP_ID = 4242;
const { privateKey, publicKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});
let sim: ForgeSim;

beforeAll(async () => {
  sim = await startForgeSim({ botLogin: "taster[bot]", app: { id: APP_ID, publicKey } });
  sim.state.addPull("coop-cloud/app-recipe", { number: 1, headSha: SHA });
  sim.state.installApp("coop-cloud", 77);
});
afterAll(() => sim.close());

const appForge = (extra: { refreshMarginMs?: number; key?: string } = {}) =>
  new GithubForge({
    app: {
      appId: String(APP_ID),
      privateKey: extra.key ?? privateKey,
      refreshMarginMs: extra.refreshMarginMs,
    },
    baseUrl: sim.url,
    retryBaseMs: 5,
    writeMinTimeMs: 0,
    notificationsMinTimeMs: 0,
  });

describe("GitHub App authentication", () => {
  it("looks the installation up once per repository and calls with its token", async () => {
    const before = sim.calls.length;
    const forge = appForge();
    expect((await forge.getPullRequest("coop-cloud/app-recipe", 1)).headSha).toBe(SHA);
    await forge.getPullRequest("coop-cloud/app-recipe", 1);
    const calls = sim.calls.slice(before).map((c) => `${c.method} ${c.path} ${c.status}`);
    expect(calls).toEqual([
      "GET /repos/coop-cloud/app-recipe/installation 200",
      "POST /app/installations/77/access_tokens 201",
      "GET /repos/coop-cloud/app-recipe/pulls/1 200",
      "GET /repos/coop-cloud/app-recipe/pulls/1 200",
    ]);
  });

  it("renews an installation token that expires mid-run, and uses the new one", async () => {
    sim.state.appTokenTtlMs = 3_000;
    try {
      const issued = sim.state.appTokens.length;
      const forge = appForge({ refreshMarginMs: 1_000 });
      await forge.getPullRequest("coop-cloud/app-recipe", 1);
      const first = sim.state.appTokens[issued]?.token;
      await new Promise((resolve) => setTimeout(resolve, 3_200)); // the first token has expired
      expect((await forge.getPullRequest("coop-cloud/app-recipe", 1)).headSha).toBe(SHA);
      expect(sim.state.appTokens.length).toBe(issued + 2);
      const second = sim.state.appTokens[issued + 1]?.token;
      expect(second).not.toBe(first);
      expect(sim.state.appTokenUses.at(-1)).toBe(second);
    } finally {
      sim.state.appTokenTtlMs = 3_600_000;
    }
  });

  it("follows paginated calls (full URLs, no route parameters) with the repository's installation", async () => {
    const forge = appForge();
    const first = await forge.upsertStickyComment("coop-cloud/app-recipe", 1, "queued");
    expect(await forge.upsertStickyComment("coop-cloud/app-recipe", 1, "running")).toBe(first);
  });

  it("is refused with a wrong key (the JWT's RS256 signature is checked)", async () => {
    const other = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    await expect(
      appForge({ key: other.privateKey }).getPullRequest("coop-cloud/app-recipe", 1),
    ).rejects.toThrow(/HTTP 401.*bad signature/);
  });

  it("says where to install the App when it is not installed on the repository", async () => {
    sim.state.addPull("elsewhere/recipe", { number: 1, headSha: SHA });
    await expect(appForge().getPullRequest("elsewhere/recipe", 1)).rejects.toThrow(
      /GitHub App is not installed on elsewhere\/recipe/,
    );
  });
});

describe("reporting mode", () => {
  it("is checks with an App, statuses with a token; both credentials are refused", () => {
    expect(githubReportMode({ app: { appId: "1", privateKey: "k" } })).toBe("checks");
    expect(githubReportMode({ token: "t" })).toBe("statuses");
    expect(githubReportMode({ app: { appId: "1", privateKey: "k" }, report: "statuses" })).toBe("statuses");
    expect(() => githubReportMode({ token: "t", app: { appId: "1", privateKey: "k" } })).toThrow(/keep one/);
    expect(() => githubReportMode({ token: "t", report: "checks" })).toThrow(/need a GitHub App/);
  });
});

describe("check runs", () => {
  const ref = { repo: "coop-cloud/app-recipe", sha: SHA, runId: "run-check-1" };

  it("creates a context's check run in progress, then completes the same one with its output", async () => {
    const forge = appForge();
    const id = await forge.publishStatus(ref, {
      context: "taster",
      state: "pending",
      description: "running lint, 3s",
      targetUrl: "http://taster.test/runs/run-check-1",
    });
    expect(id).toMatch(/^\d+$/);
    const again = await forge.publishStatus(
      ref,
      {
        context: "taster",
        state: "failure",
        description: "failed, level L1",
        output: { title: "failed, level L1", summary: "| tier | result |", text: "#### Failures (1)" },
      },
      id,
    );
    expect(again).toBe(id);
    const runs = sim.state.checkRuns.filter((c) => c.externalId === "run-check-1");
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      name: "taster",
      headSha: SHA,
      status: "completed",
      conclusion: "failure",
      detailsUrl: "http://taster.test/runs/run-check-1",
      output: { title: "failed, level L1", summary: "| tier | result |", text: "#### Failures (1)" },
      updates: 1,
    });
  });

  it("closes only check runs that exist, and a commit-status forge skips check-run-only lines", async () => {
    const forge = appForge();
    const close = {
      context: "taster/restore",
      state: "error" as const,
      description: "cancelled",
      checkRunOnly: "close" as const,
      output: { title: "cancelled", summary: "superseded", conclusion: "cancelled" as const },
    };
    const before = sim.state.checkRuns.length;
    expect(await forge.publishStatus({ ...ref, runId: "run-close" }, close)).toBeUndefined();
    expect(sim.state.checkRuns.length).toBe(before);
    const open = { context: "taster/restore", state: "pending" as const, description: "queued" };
    const id = await forge.publishStatus({ ...ref, runId: "run-close" }, { ...open, checkRunOnly: "open" });
    await forge.publishStatus({ ...ref, runId: "run-close" }, close, id);
    expect(sim.state.checkRuns.find((c) => String(c.id) === id)).toMatchObject({
      status: "completed",
      conclusion: "cancelled",
    });
    const pat = new GithubForge({ token: "ghp_x", baseUrl: sim.url, retryBaseMs: 5, writeMinTimeMs: 0 });
    const statuses = sim.state.statuses.length;
    await pat.publishStatus({ ...ref, runId: "run-close" }, { ...open, checkRunOnly: "open" });
    expect(sim.state.statuses.length).toBe(statuses);
  });

  it("is refused to a personal token (the Checks API needs an App), which posts statuses instead", async () => {
    const pat = new GithubForge({ token: "ghp_x", baseUrl: sim.url, retryBaseMs: 5, writeMinTimeMs: 0 });
    expect(await pat.publishStatus(ref, { context: "taster", state: "success", description: "passed" })).toBe(
      undefined,
    );
    expect(sim.state.statuses.filter((s) => s.sha === SHA).map((s) => [s.context, s.state])).toEqual([
      ["taster", "success"],
    ]);
  });
});
