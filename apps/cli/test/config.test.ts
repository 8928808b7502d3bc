import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "@jest/globals";
import { loadBridgeConfig } from "@taster/bridge";
import { DEFAULT_REDIS_URL, readConfig } from "@taster/config";
import { workerConfigFromEnv } from "@taster/worker";

const TASTER = join(import.meta.dirname, "..", "..", "..", "taster");

/** Only what the test gives: no TASTER_* (nor DOCKER_HOST) of the machine running it leaks in. */
const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("TASTER_") && key !== "DOCKER_HOST"),
  );

async function taster(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(TASTER, args, { env: { ...cleanEnv(), ...env } });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe("one configuration for every process", () => {
  it("a bad value stops doctor, janitor and bridge with exit 2, naming the variable and the fix", async () => {
    const doctor = await taster(["doctor"], { TASTER_HOSTS: "lab=unix:///var/run/docker.sock@0" });
    expect(doctor.code).toBe(2);
    expect(doctor.stderr).toContain("taster: invalid configuration:");
    expect(doctor.stderr).toContain(
      'TASTER_HOSTS="lab=unix:///var/run/docker.sock@0": host "lab" needs a capacity of at least 1; e.g. TASTER_HOSTS=lab=unix:///var/run/docker.sock@2,big=ssh://root@10.0.0.5@4',
    );
    expect(doctor.stderr).toContain("hint: every TASTER_* variable is described in docs/configuration.md");

    const janitor = await taster(["janitor"], { TASTER_REDIS_URL: "http://:pw-hidden@redis:6379" });
    expect(janitor.code).toBe(2);
    expect(janitor.stderr).toContain("TASTER_REDIS_URL (value hidden): must be a redis:// or rediss:// URL");
    expect(janitor.stderr).not.toContain("pw-hidden");

    const bridge = await taster(["bridge", "--check"], {
      TASTER_GITHUB_WEBHOOK_SECRET: "s3cret-value",
      TASTER_GITHUB_TOKEN: "ghp_value",
      TASTER_MAX_BODY_BYTES: "12",
    });
    expect(bridge.code).toBe(2);
    expect(bridge.stderr).toContain('TASTER_MAX_BODY_BYTES="12": must be at least 1024');
    expect(bridge.stderr).not.toMatch(/s3cret-value|ghp_value/);
  });

  it("the bridge, the worker and the doctor's config agree on TASTER_REDIS_URL and TASTER_HOSTS when unset", () => {
    const env = { TASTER_GITHUB_WEBHOOK_SECRET: "s", TASTER_GITHUB_TOKEN: "t" };
    const bridge = loadBridgeConfig(env);
    const worker = workerConfigFromEnv(env, { host: "lab" });
    const doctor = readConfig(env);
    // Before: the bridge defaulted to lab=unix:///var/run/docker.sock@1, the worker had no host
    // ("not in TASTER_HOSTS") and the doctor checked `local`; the worker required TASTER_REDIS_URL.
    expect([bridge.redisUrl, worker.redisUrl, doctor.redis.url]).toEqual(Array(3).fill(DEFAULT_REDIS_URL));
    expect(bridge.hosts).toEqual([{ name: "lab", dockerHost: "unix:///var/run/docker.sock", capacity: 1 }]);
    expect(worker.host).toEqual({ name: "lab", url: "unix:///var/run/docker.sock", capacity: 1 });
    expect(doctor.hosts.hosts).toEqual([worker.host]);
    expect(worker.publicUrl).toBe(bridge.publicUrl);
  });

  it("a Gitea-only deployment: bridge, intake and worker take it with no GitHub variable", async () => {
    const gitea = {
      TASTER_GITEA_URL: "https://git.coopcloud.tech",
      TASTER_GITEA_TOKEN: "gitea-token-value",
      TASTER_GITEA_WEBHOOK_SECRET: "gitea-secret-value",
      TASTER_ENROLLED_REPOS: "gitea:coop-cloud/notes",
    };
    const bridge = loadBridgeConfig(gitea);
    expect([bridge.gitea?.url, bridge.github]).toEqual(["https://git.coopcloud.tech", undefined]);
    expect(loadBridgeConfig({ ...gitea, TASTER_BRIDGE_ROLE: "intake" }).gitea?.token).toBe(
      "gitea-token-value",
    );
    const worker = workerConfigFromEnv(gitea, { host: "lab" });
    expect([worker.gitea?.url, worker.github]).toEqual(["https://git.coopcloud.tech", undefined]);

    // Neither forge: `taster worker` refuses at once (exit 2), naming both ways to fix it.
    const neither = await taster(["worker", "--host", "lab"], { TASTER_REDIS_URL: "redis://127.0.0.1:1" });
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain(
      "no forge to report to: set TASTER_GITHUB_TOKEN or a GitHub App (TASTER_GITHUB_APP_ID and its key, docs/github-app.md) and/or TASTER_GITEA_URL with TASTER_GITEA_TOKEN (Gitea/Forgejo)",
    );
  });

  it("the janitor reads the same default Redis and says so when nothing answers there", async () => {
    // The lab's Redis listens on 6390, nothing on the default 6379 here.
    const janitor = await taster(["janitor", "--prefix", `cfg${process.pid}`], {
      DOCKER_HOST: "unix:///var/run/docker.sock",
    });
    expect(janitor.stderr).toContain(
      `janitor: WARNING: TASTER_REDIS_URL is not set, so the janitor cannot know which runs are live`,
    );
    expect(janitor.stderr).toContain(`Redis at ${DEFAULT_REDIS_URL} did not answer`);
  });
});
