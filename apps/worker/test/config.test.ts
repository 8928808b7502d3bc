import { describe, expect, it } from "@jest/globals";
import { parseHosts, recipeSourceFrom, workerConfigFromEnv } from "../src/config";
import { parseProbeImages, probeImageFor } from "../src/probe-image";

const env = { TASTER_REDIS_URL: "redis://127.0.0.1:6390", TASTER_GITHUB_TOKEN: "ghp_config_test_token" };

describe("worker configuration from the environment", () => {
  it("finds the host by URL or name in TASTER_HOSTS, with its capacity", () => {
    const hosts = "lab=unix:///var/run/docker.sock@2,big=ssh://root@10.0.0.5@4";
    expect(parseHosts(hosts)).toEqual([
      { name: "lab", url: "unix:///var/run/docker.sock", capacity: 2 },
      { name: "big", url: "ssh://root@10.0.0.5", capacity: 4 },
    ]);
    const byUrl = workerConfigFromEnv({ ...env, TASTER_HOSTS: hosts }, { host: "ssh://root@10.0.0.5" });
    expect(byUrl.host).toEqual({ name: "big", url: "ssh://root@10.0.0.5", capacity: 4 });
    const byName = workerConfigFromEnv({ ...env, TASTER_HOSTS: hosts }, { host: "lab", capacity: 3 });
    expect(byName.host.capacity).toBe(3);
  });

  it("refuses a host the bridge does not route to, unless named, and says how to fix it", () => {
    expect(() => workerConfigFromEnv(env, { host: "tcp://10.0.0.9:2376" })).toThrow(/not in TASTER_HOSTS/);
    expect(workerConfigFromEnv(env, { host: "tcp://10.0.0.9:2376", name: "edge" }).host.name).toBe("edge");
  });

  it("names bad and missing variables without printing secret values", () => {
    // TASTER_REDIS_URL has the bridge's default (redis://127.0.0.1:6379); a wrong one is named.
    const bad = { TASTER_GITHUB_TOKEN: "ghp_secret_value", TASTER_REDIS_URL: "http://:pw-secret@redis:6379" };
    expect(() => workerConfigFromEnv(bad, { host: "x", name: "x" })).toThrow(/TASTER_REDIS_URL/);
    try {
      workerConfigFromEnv(bad, { host: "x", name: "x" });
    } catch (error) {
      expect(String(error)).not.toContain("ghp_secret_value");
      expect(String(error)).not.toContain("pw-secret");
    }
    expect(() => workerConfigFromEnv({}, { host: "x", name: "x" })).toThrow(
      /TASTER_GITHUB_TOKEN is required/,
    );
    expect(() => workerConfigFromEnv({ ...env }, { host: "x", name: "x", capacity: 0 })).toThrow(
      /--capacity/,
    );
  });

  it("fetches recipes from the repo's URL by default, or a configured template", () => {
    const config = workerConfigFromEnv(env, { host: "x", name: "x" });
    expect(config.secrets).toContain("ghp_config_test_token");
    const job = { repo: "coop-cloud/hello-web", recipe: "hello-web" };
    expect(recipeSourceFrom(config.recipeSource)(job)).toBe("https://github.com/coop-cloud/hello-web.git");
    expect(recipeSourceFrom("/srv/recipes/{recipe}.git")(job)).toBe("/srv/recipes/hello-web.git");
    expect(() => recipeSourceFrom("/srv/recipes/fixed.git")).toThrow(/\{repo\}/);
  });
});

describe("TASTER_PROBE_IMAGES", () => {
  it("gives each listed host its image and every other host the public default", () => {
    const env = { TASTER_PROBE_IMAGES: "lab=taster-lab/probe:latest, big=registry.example/probe:1" };
    expect(probeImageFor("lab", env)).toBe("taster-lab/probe:latest");
    expect(probeImageFor("big", env)).toBe("registry.example/probe:1");
    expect(probeImageFor("edge", env)).toBe("busybox:1.36");
    expect(probeImageFor("edge", {})).toBe("busybox:1.36");
  });

  it("names the entry that is not host=image", () => {
    expect(() => parseProbeImages("lab")).toThrow(/TASTER_PROBE_IMAGES entry "lab" must be host=image/);
  });
});
