import { readFile } from "node:fs/promises";
import { describe, expect, it } from "@jest/globals";
import { TasterError } from "@taster/core";
import {
  CONFIG_DOC_COMMAND,
  CONFIG_DOC_PATH,
  configurationPage,
  DEFAULT_REDIS_URL,
  parseHosts,
  readConfig,
  readVariable,
  VARIABLES,
} from "../src/index";

/** The error readConfig throws for this environment. */
function problemsOf(env: NodeJS.ProcessEnv): TasterError {
  try {
    readConfig(env);
  } catch (error) {
    return error as TasterError;
  }
  throw new Error("readConfig accepted a bad environment");
}

describe("readConfig", () => {
  it("gives every section its defaults from an empty environment", () => {
    const config = readConfig({});
    expect(config.redis).toEqual({ url: DEFAULT_REDIS_URL, keyPrefix: "taster", bullPrefix: "bull" });
    expect(config.hosts.hosts).toEqual([{ name: "lab", url: "unix:///var/run/docker.sock", capacity: 1 }]);
    expect(config.bridge).toMatchObject({ role: "all", port: 8080, publicUrl: "http://localhost:8080" });
    expect(config.intake.maxCommentAgeSec).toBe(6 * 3600);
    expect(config.secrets).toEqual([]);
    expect(config.given.size).toBe(0);
  });

  it("takes an empty variable as unset, and the default host from DOCKER_HOST", () => {
    const config = readConfig({ TASTER_REDIS_URL: "", TASTER_PORT: " ", DOCKER_HOST: "tcp://10.0.0.9:2376" });
    expect(config.redis.url).toBe(DEFAULT_REDIS_URL);
    expect(config.bridge.port).toBe(8080);
    expect(config.hosts.hosts).toEqual([{ name: "lab", url: "tcp://10.0.0.9:2376", capacity: 1 }]);
    expect(config.given.has("TASTER_REDIS_URL")).toBe(false);
  });

  it("names every bad variable with its value, what is wrong and an example, as a config error (exit 2)", () => {
    const error = problemsOf({
      TASTER_PORT: "not-a-port",
      TASTER_BRIDGE_ROLE: "worker",
      TASTER_HOSTS: "lab=unix:///var/run/docker.sock@2,Big Box=ssh://root@10.0.0.5",
      TASTER_SANDBOX_SLOTS: "0",
    });
    expect(error).toBeInstanceOf(TasterError);
    expect(error.kind).toBe("config");
    expect(error.message).toContain(
      'TASTER_PORT="not-a-port": must be a whole number; e.g. TASTER_PORT=8080',
    );
    expect(error.message).toContain('TASTER_BRIDGE_ROLE="worker": must be all, http or intake');
    expect(error.message).toContain("host name \"Big Box\" must be lowercase letters, digits and '-'");
    expect(error.message).toContain('TASTER_SANDBOX_SLOTS="0": must be at least 1');
    expect(error.hint).toContain("docs/configuration.md");
  });

  it("never shows a secret's value, even when the secret itself is malformed", () => {
    const error = problemsOf({
      TASTER_REDIS_URL: "http://:hunter2-secret@redis:6379",
      TASTER_GITHUB_TOKEN: "ghp_token_value",
      TASTER_PORT: "x",
    });
    expect(error.message).toContain("TASTER_REDIS_URL (value hidden): must be a redis:// or rediss:// URL");
    expect(error.message).not.toContain("hunter2-secret");
    expect(error.message).not.toContain("ghp_token_value");
  });

  it("collects the secret values to redact: tokens, each rotated webhook secret, the Redis password", () => {
    const config = readConfig({
      TASTER_REDIS_URL: "redis://:redis-pw@redis:6379",
      TASTER_GITHUB_TOKEN: "ghp_x",
      TASTER_GITHUB_WEBHOOK_SECRET: "new-secret, old-secret",
    });
    expect(config.secrets).toEqual(expect.arrayContaining(["redis-pw", "ghp_x", "new-secret", "old-secret"]));
    expect(config.forge.github.webhookSecrets).toEqual(["new-secret", "old-secret"]);
  });

  it("reads one variable by the same schema when a command needs it before the rest", () => {
    expect(readVariable("TASTER_ROOT", { TASTER_ROOT: "/srv/taster" })).toBe("/srv/taster");
    expect(readVariable("TASTER_PORT", {})).toBe(8080);
    expect(() => readVariable("TASTER_PORT", { TASTER_PORT: "eighty" })).toThrow(
      'TASTER_PORT="eighty": must be a whole number; e.g. TASTER_PORT=8080',
    );
  });

  it("routes recipes only to listed hosts", () => {
    expect(problemsOf({ TASTER_RECIPE_HOSTS: "notes=nowhere" }).message).toContain(
      'notes is routed to unknown host "nowhere"',
    );
  });
});

describe("the one host parser", () => {
  it("keeps an ssh URL's user@ and reads the capacity after the last @", () => {
    expect(
      parseHosts("lab=unix:///var/run/docker.sock@2, big=ssh://root@10.0.0.5@4,edge=tcp://e:2376"),
    ).toEqual([
      { name: "lab", url: "unix:///var/run/docker.sock", capacity: 2 },
      { name: "big", url: "ssh://root@10.0.0.5", capacity: 4 },
      { name: "edge", url: "tcp://e:2376", capacity: 1 },
    ]);
  });

  it("refuses what would make two queues one, or none", () => {
    expect(() => parseHosts("a=unix:///x,a=tcp://y:1")).toThrow(/host "a" is listed twice/);
    expect(() => parseHosts("a=unix:///x@0")).toThrow(/capacity of at least 1/);
    expect(() => parseHosts("just-a-name")).toThrow(/is not name=docker-url\[@capacity\]/);
  });
});

describe("docs/configuration.md", () => {
  it("is generated from the schema and current", async () => {
    const onDisk = await readFile(CONFIG_DOC_PATH, "utf8").catch(() => "");
    if (onDisk !== configurationPage()) {
      throw new Error(
        `docs/configuration.md is out of date with the configuration schema; run: ${CONFIG_DOC_COMMAND}`,
      );
    }
    for (const name of Object.keys(VARIABLES))
      expect(onDisk).toMatch(new RegExp(`^\\| \`${name}\` +\\|`, "m"));
  });
});
