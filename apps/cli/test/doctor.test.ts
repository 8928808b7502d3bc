import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab } from "@taster/lab";
// The forge is the one part that may be simulated (at the HTTP level).
import { type ForgeSim, startForgeSim } from "../../../infra/forge-sim/src/index";

const TASTER = join(import.meta.dirname, "..", "..", "..", "taster");

/** Only what the test gives: no TASTER_* of the machine running it leaks into the doctor. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASTER_")));
}

async function doctor(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(TASTER, ["doctor", ...args], {
      env: { ...cleanEnv(), ...env },
    });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

const line = (check: string, mark: "ok" | "FAIL" | "skip", detail: string) =>
  new RegExp(`^${mark}\\s+${check}\\s+${detail}`, "m");

describe("taster doctor --lab", () => {
  beforeAll(async () => {
    await ensureLab();
  });

  it("names each missing part and how to fix it when the lab is down", async () => {
    // A lab whose parts answer nowhere: what `doctor` sees on a machine where the lab is down.
    const dir = await mkdtemp(join(tmpdir(), "taster-doctor-"));
    await writeFile(
      join(dir, "lab.json"),
      JSON.stringify({ dockerHost: "tcp://127.0.0.1:9", redisUrl: "redis://127.0.0.1:9" }),
    );
    const { code, stdout } = await doctor({ TASTER_LAB_DIR: dir }, ["--lab"]);
    expect(code).toBe(1);
    expect(stdout).toMatch(line("lab engine", "FAIL", "no Docker engine at tcp://127\\.0\\.0\\.1:9"));
    expect(stdout).toMatch(line("lab \\*", "skip", "swarm, probe image, proxy and VIPs not checked"));
    expect(stdout).toMatch(line("redis", "FAIL", "redis://127\\.0\\.0\\.1:9"));
    expect(stdout).toContain("fix: run `./taster lab up`");
    expect(stdout).toContain("2 problem(s) found");
  });
});

/** A service configuration against the lab's engine and Redis, with a simulated GitHub. */
describe("taster doctor (TASTER_* configuration)", () => {
  const GOOD = "ghp_good-token";
  let sim: ForgeSim;
  let base: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const info = await ensureLab();
    sim = await startForgeSim({ token: GOOD });
    base = {
      TASTER_HOSTS: `lab=${info.dockerHost}@2`,
      TASTER_PROBE_IMAGES: `lab=${info.images.probe}`,
      TASTER_REDIS_URL: info.redisUrl,
      TASTER_GITHUB_API_URL: sim.url,
      TASTER_GITHUB_TOKEN: GOOD,
      TASTER_GITHUB_WEBHOOK_SECRET: "s3cret",
    };
  });
  afterAll(async () => {
    await sim?.close();
  });

  let allGood = "";
  it("is all good, exit 0, with every host, Redis and forge checked", async () => {
    const { code, stdout } = await doctor(base);
    allGood = stdout;
    expect(stdout).not.toMatch(/^FAIL/m);
    for (const part of ["engine", "swarm", "probe", "proxy", "vips"]) {
      expect(stdout).toMatch(line(`lab ${part}`, "ok", ""));
    }
    expect(stdout).toMatch(line("lab probe", "ok", "probe image taster-lab/probe:latest is on the host"));
    expect(stdout).toMatch(line("lab proxy", "ok", "network 'proxy' \\(overlay, attachable\\)"));
    expect(stdout).toMatch(line("redis", "ok", "redis://\\*\\*\\*@127\\.0\\.0\\.1:\\d+ answers"));
    expect(stdout).toMatch(line("github", "ok", ".*token of taster-bot works \\(scopes: repo, read:org\\)"));
    expect(stdout).toMatch(line("github webhook", "ok", "TASTER_GITHUB_WEBHOOK_SECRET is set"));
    expect(stdout).toContain("\nall good\n");
    expect(code).toBe(0);
  });

  it("says a host without working VIPs needs dnsrr (this lab host has no IPVS)", () => {
    expect(allGood).toMatch(
      line(
        "lab vips",
        "ok",
        "swarm VIPs do not answer \\(no IPVS\\?\\): dnsrr needed; deploys here use endpoint_mode dnsrr",
      ),
    );
  });

  // The forge cases name a probe image the host lacks, so the slow VIP measure is skipped.
  const noVips = { TASTER_PROBE_IMAGES: "lab=taster-lab/probe:no-such-tag" };

  it("fails a host without its probe image and says how to get it there", async () => {
    const { code, stdout } = await doctor({ ...base, ...noVips });
    expect(stdout).toMatch(
      line("lab probe", "FAIL", "probe image taster-lab/probe:no-such-tag is not on the host"),
    );
    expect(stdout).toContain(
      "fix: run `docker pull taster-lab/probe:no-such-tag` on the host (or load it there with `docker load`), or set TASTER_PROBE_IMAGES=lab=",
    );
    expect(stdout).toMatch(line("lab vips", "skip", "not measured: the probe image is missing"));
    expect(stdout).toContain("1 problem(s) found");
    expect(code).toBe(1);
  });

  it("fails an unreachable forge, with the fix", async () => {
    const gitea = {
      TASTER_GITEA_URL: "http://gitea.invalid",
      TASTER_GITEA_TOKEN: "any",
      TASTER_GITEA_WEBHOOK_SECRET: "s3cret",
    };
    const { code, stdout } = await doctor({ ...base, ...noVips, ...gitea });
    expect(stdout).toMatch(
      line("gitea", "FAIL", "Gitea at http://gitea\\.invalid unreachable: fetch failed"),
    );
    expect(stdout).toContain("fix: check TASTER_GITEA_URL (the Gitea's base URL, without /api/v1)");
    expect(stdout).toMatch(line("github", "ok", ""));
    expect(code).toBe(1);
  });

  it("fails a bad token on GitHub and on Gitea, never printing it", async () => {
    const bad = {
      TASTER_GITHUB_TOKEN: "ghp_made-up",
      TASTER_GITEA_URL: sim.url,
      TASTER_GITEA_TOKEN: "gitea-made-up",
      TASTER_GITEA_WEBHOOK_SECRET: "s3cret",
    };
    const { code, stdout } = await doctor({ ...base, ...noVips, ...bad });
    expect(stdout).toMatch(
      line(
        "github",
        "FAIL",
        `GitHub at ${sim.url} rejected TASTER_GITHUB_TOKEN \\(HTTP 401: Bad credentials\\)`,
      ),
    );
    expect(stdout).toMatch(
      line(
        "gitea",
        "FAIL",
        `Gitea at ${sim.url} rejected TASTER_GITEA_TOKEN \\(HTTP 401: Bad credentials\\)`,
      ),
    );
    expect(stdout).toContain("fix: the token is wrong or deleted: create one for the bot user");
    expect(stdout).not.toContain("made-up");
    expect(code).toBe(1);
  });

  it("fails a GitHub token without the scopes the bot needs", async () => {
    sim.state.githubTokenScopes = "public_repo";
    try {
      const { stdout } = await doctor({ ...base, ...noVips });
      expect(stdout).toMatch(line("github", "FAIL", ".*\\(scopes: public_repo\\); missing: read:org"));
    } finally {
      sim.state.githubTokenScopes = "repo, read:org";
    }
  });

  it("checks every host in TASTER_HOSTS, or only the one --host names (--no-webhooks: not the secrets)", async () => {
    const hosts = { TASTER_HOSTS: `${base.TASTER_HOSTS},far=tcp://127.0.0.1:9@1` };
    const all = await doctor({ ...base, ...noVips, ...hosts });
    expect(all.stdout).toMatch(line("lab engine", "ok", ""));
    expect(all.stdout).toMatch(line("far engine", "FAIL", "no Docker engine at tcp://127\\.0\\.0\\.1:9"));
    // As in the worker's container, which holds no webhook secret.
    const one = await doctor({ ...base, ...hosts, TASTER_GITHUB_WEBHOOK_SECRET: "" }, [
      "--host",
      "far",
      "--no-webhooks",
    ]);
    expect(one.stdout).not.toMatch(/^\S+\s+lab /m);
    expect(one.stdout).not.toContain("webhook");
    expect(one.stdout).toMatch(line("github", "ok", ""));
    expect(one.stdout).toMatch(line("far engine", "FAIL", ""));
    expect(one.code).toBe(1);
  });
});

/** Taster as a GitHub App: the doctor checks the App id and key against `GET /app`. */
describe("taster doctor (GitHub App)", () => {
  const APP_ID = 4711;
  const pair = () =>
    generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
  const appKeys = pair();
  let sim: ForgeSim;
  let base: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const info = await ensureLab();
    sim = await startForgeSim({ token: "unused", app: { id: APP_ID, publicKey: appKeys.publicKey } });
    base = {
      TASTER_HOSTS: `lab=${info.dockerHost}@2`,
      // A probe image the host lacks skips the slow VIP measure; only the forge lines matter here.
      TASTER_PROBE_IMAGES: "lab=taster-lab/probe:no-such-tag",
      TASTER_REDIS_URL: info.redisUrl,
      TASTER_GITHUB_API_URL: sim.url,
      TASTER_GITHUB_APP_ID: String(APP_ID),
      TASTER_GITHUB_WEBHOOK_SECRET: "s3cret",
    };
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("says the App authenticates with its key", async () => {
    const { stdout } = await doctor({ ...base, TASTER_GITHUB_APP_PRIVATE_KEY: appKeys.privateKey });
    expect(stdout).toMatch(line("github", "ok", ".*App taster-sim \\(id 4711\\) authenticates"));
  });

  it("fails an App key GitHub does not know, naming the fix and never the key", async () => {
    const other = pair().privateKey;
    const { code, stdout } = await doctor({ ...base, TASTER_GITHUB_APP_PRIVATE_KEY: other });
    expect(stdout).toMatch(line("github", "FAIL", ".*refused the App 4711 \\(HTTP 401: .*bad signature"));
    expect(stdout).toContain("fix: check TASTER_GITHUB_APP_ID and the App's private key");
    expect(stdout).not.toContain(other.split("\n")[1]);
    expect(code).toBe(1);
  });
});
