import { describe, expect, it } from "@jest/globals";
import { parseHosts, recipeSourceFrom, workerConfigFromEnv } from "../src/config";
import { reportersFor } from "../src/forge";
import { parseProbeImages, probeImageFor } from "../src/probe-image";
import { recipeSources } from "../src/recipe-source";

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
      /no forge to report to: set TASTER_GITHUB_TOKEN .* TASTER_GITEA_URL with TASTER_GITEA_TOKEN/,
    );
    expect(() => workerConfigFromEnv({ ...env }, { host: "x", name: "x", capacity: 0 })).toThrow(
      /--capacity/,
    );
  });

  it("fetches recipes from a configured template, for every forge", () => {
    const config = workerConfigFromEnv(env, { host: "x", name: "x" });
    expect(config.secrets).toContain("ghp_config_test_token");
    expect(config.recipeSource).toBeUndefined();
    const job = { repo: "coop-cloud/hello-web", recipe: "hello-web" };
    expect(recipeSourceFrom("/srv/recipes/{recipe}.git")(job)).toBe("/srv/recipes/hello-web.git");
    expect(() => recipeSourceFrom("/srv/recipes/fixed.git")).toThrow(/\{repo\}/);
    const sources = recipeSources({ template: "/srv/recipes/{repo}.git", giteaUrl: "https://git.example" });
    expect(sources({ ...job, forge: "gitea" })).toBe("/srv/recipes/coop-cloud/hello-web.git");
    expect(sources({ ...job, forge: "github" })).toBe("/srv/recipes/coop-cloud/hello-web.git");
  });
});

const GITEA = {
  TASTER_GITEA_URL: "https://git.coopcloud.tech/",
  TASTER_GITEA_TOKEN: "gitea_config_test_token",
};

describe("which forges the worker reports to", () => {
  it("runs Gitea-only with no GitHub variable, and reports only there", () => {
    const config = workerConfigFromEnv({ TASTER_REDIS_URL: env.TASTER_REDIS_URL, ...GITEA }, { host: "lab" });
    expect(config.gitea).toEqual({ url: "https://git.coopcloud.tech", token: "gitea_config_test_token" });
    expect(config.github).toBeUndefined();
    expect(Object.keys(reportersFor(config))).toEqual(["gitea"]);
    expect(config.secrets).toContain("gitea_config_test_token");
  });

  it("runs GitHub-only, and with both forges reports to each", () => {
    const github = workerConfigFromEnv(env, { host: "lab" });
    expect(github.gitea).toBeUndefined();
    expect(Object.keys(reportersFor(github))).toEqual(["github"]);
    const both = workerConfigFromEnv({ ...env, ...GITEA }, { host: "lab" });
    expect(Object.keys(reportersFor(both)).sort()).toEqual(["gitea", "github"]);
  });

  it("refuses neither forge, or half of Gitea, naming the variables and never a token", () => {
    expect(() => workerConfigFromEnv({}, { host: "lab" })).toThrow(
      /TASTER_GITEA_URL with TASTER_GITEA_TOKEN/,
    );
    const half = () =>
      workerConfigFromEnv(
        { TASTER_GITEA_TOKEN: "gitea_half_secret", TASTER_GITHUB_TOKEN: "x" },
        { host: "lab" },
      );
    expect(half).toThrow(/TASTER_GITEA_URL is required with TASTER_GITEA_TOKEN/);
    expect(half).not.toThrow(/gitea_half_secret/);
  });
});

describe("where a run's recipe is fetched from", () => {
  const job = { repo: "coop-cloud/notes", recipe: "notes" };
  const sources = recipeSources({
    githubApiUrl: "https://api.github.com",
    giteaUrl: "https://git.coopcloud.tech/",
  });

  it("from the forge its command came from", () => {
    expect(sources({ ...job, forge: "github" })).toBe("https://github.com/coop-cloud/notes.git");
    expect(sources({ ...job, forge: "gitea" })).toBe("https://git.coopcloud.tech/coop-cloud/notes.git");
    const enterprise = recipeSources({ githubApiUrl: "https://ghe.example/api/v3" });
    expect(enterprise({ ...job, forge: "github" })).toBe("https://ghe.example/coop-cloud/notes.git");
  });

  it("takes a payload's clone URL only on the configured host, and says when it ignores one", () => {
    const ignored: string[] = [];
    const s = recipeSources({
      giteaUrl: "https://git.coopcloud.tech",
      onIgnored: (_j, why) => ignored.push(why),
    });
    const on = (cloneUrl: string) => s({ ...job, forge: "gitea", cloneUrl });
    expect(on("https://git.coopcloud.tech/mirror/coop-cloud/notes.git")).toBe(
      "https://git.coopcloud.tech/mirror/coop-cloud/notes.git",
    );
    for (const hostile of [
      "https://evil.example/coop-cloud/notes.git",
      "https://git.coopcloud.tech.evil.example/coop-cloud/notes.git",
      "https://user:pw@git.coopcloud.tech/coop-cloud/notes.git",
      "file:///etc/coop-cloud/notes.git",
      "https://git.coopcloud.tech/other/repo.git",
      "not a url",
    ])
      expect(on(hostile)).toBe("https://git.coopcloud.tech/coop-cloud/notes.git");
    expect(ignored).toHaveLength(6);
    expect(ignored[0]).toMatch(/not on git.coopcloud.tech/);
  });

  it("refuses hostile repo names and a forge that is not configured", () => {
    for (const repo of ["../etc", "coop-cloud/..", "-u/x", "a/b/c", "coop-cloud/.hidden"])
      expect(() => sources({ forge: "gitea", repo, recipe: "notes" })).toThrow(/is not owner\/name/);
    expect(() => recipeSourceFrom("/srv/{repo}.git")({ repo: "x/..", recipe: "r" })).toThrow(/owner\/name/);
    expect(() => recipeSourceFrom("/srv/{recipe}.git")({ repo: "x/y", recipe: "../r" })).toThrow(
      /plain name/,
    );
    const githubOnly = recipeSources({ githubApiUrl: "https://api.github.com" });
    expect(() => githubOnly({ ...job, forge: "gitea" })).toThrow(/TASTER_GITEA_URL and TASTER_GITEA_TOKEN/);
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
