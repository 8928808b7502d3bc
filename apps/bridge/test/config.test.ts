import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";
import { loadTriggerers } from "@taster/forge";
import { hostFor, loadBridgeConfig, parseHosts } from "../src/index";

const base = {
  TASTER_GITHUB_WEBHOOK_SECRET: "topsecret-value",
  TASTER_GITHUB_TOKEN: "ghp_tokenvalue",
};

describe("bridge configuration", () => {
  it("refuses to start without a webhook secret, saying so", () => {
    expect(() => loadBridgeConfig({})).toThrow(
      /no webhook secret configured: set TASTER_GITHUB_WEBHOOK_SECRET/,
    );
  });

  it("listens on all interfaces by default, on the address given, and refuses a bad one", () => {
    expect(loadBridgeConfig(base).bind).toBe("0.0.0.0");
    expect(loadBridgeConfig({ ...base, TASTER_BIND: "127.0.0.1" }).bind).toBe("127.0.0.1");
    expect(() => loadBridgeConfig({ ...base, TASTER_BIND: "localhost:80" })).toThrow(/TASTER_BIND/);
  });

  it("reads secrets for rotation, hosts with capacity and recipe routing", () => {
    const config = loadBridgeConfig({
      ...base,
      TASTER_GITHUB_WEBHOOK_SECRET: "new-secret, old-secret",
      TASTER_HOSTS: "lab=unix:///var/run/docker.sock@2,big=ssh://root@10.0.0.5@4",
      TASTER_RECIPE_HOSTS: "notes=big",
      TASTER_ENROLLED_REPOS: "coop-cloud/hello-web",
    });
    expect(config.github?.webhookSecrets).toEqual(["new-secret", "old-secret"]);
    expect(config.hosts).toEqual([
      { name: "lab", dockerHost: "unix:///var/run/docker.sock", capacity: 2 },
      { name: "big", dockerHost: "ssh://root@10.0.0.5", capacity: 4 },
    ]);
    expect(hostFor(config, "notes")).toBe("big");
    expect(hostFor(config, "hello-web")).toBe("lab");
    expect(config.enrolledRepos).toEqual([{ forge: "github", repo: "coop-cloud/hello-web" }]);
  });

  it("reports every problem by variable name, without echoing secret values", () => {
    let message = "";
    try {
      loadBridgeConfig({
        TASTER_GITHUB_WEBHOOK_SECRET: "topsecret-value",
        TASTER_HOSTS: "lab=unix:///var/run/docker.sock",
        TASTER_RECIPE_HOSTS: "notes=nowhere",
        TASTER_ENROLLED_REPOS: "gitea:coop-cloud/notes",
        TASTER_PORT: "not-a-port",
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("TASTER_PORT");
    expect(message).not.toContain("topsecret-value");
  });

  it("refuses comments older than 6 h by default, or TASTER_MAX_COMMENT_AGE_SEC (at least a minute)", () => {
    expect(loadBridgeConfig(base).maxCommentAgeSec).toBe(6 * 3600);
    expect(loadBridgeConfig({ ...base, TASTER_MAX_COMMENT_AGE_SEC: "3600" }).maxCommentAgeSec).toBe(3600);
    expect(() => loadBridgeConfig({ ...base, TASTER_MAX_COMMENT_AGE_SEC: "5" })).toThrow(
      /TASTER_MAX_COMMENT_AGE_SEC/,
    );
  });

  it("explains each cross-field problem", () => {
    expect(() => loadBridgeConfig({ TASTER_GITHUB_WEBHOOK_SECRET: "x" })).toThrow(
      /TASTER_GITHUB_TOKEN is required/,
    );
    expect(() => loadBridgeConfig({ ...base, TASTER_RECIPE_HOSTS: "notes=nowhere" })).toThrow(
      /unknown host "nowhere"/,
    );
    expect(() => loadBridgeConfig({ ...base, TASTER_ENROLLED_REPOS: "gitea:coop-cloud/notes" })).toThrow(
      /needs that forge configured/,
    );
    expect(() => parseHosts("Bad Name=unix:///x")).toThrow(/host name/);
  });
});

describe("allowlist/triggerers.yml", () => {
  it("is a valid triggerers list as shipped", async () => {
    const file = join(dirname(fileURLToPath(import.meta.url)), "../../../allowlist/triggerers.yml");
    expect(existsSync(file)).toBe(true);
    await expect(loadTriggerers(file)).resolves.toEqual(expect.any(Array));
  });
});
