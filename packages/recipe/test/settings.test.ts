import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  DEFAULT_ACCEPTABLE_STATUSES,
  loadSettings,
  SETTINGS_DOC_COMMAND,
  SETTINGS_DOC_PATH,
  settingsPage,
} from "../src/index";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `taster-settings-${process.pid}-`));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function recipeWith(name: string, yaml: string, file = "taster.yml"): Promise<string> {
  await mkdir(join(dir, name), { recursive: true });
  await writeFile(join(dir, name, file), yaml);
  return join(dir, name, file);
}

describe("loadSettings", () => {
  it("gives every default when the recipe has no taster.yml", async () => {
    const settings = await loadSettings(dir, "no-file");
    expect(settings).toEqual({
      healthPath: "/",
      acceptableStatuses: [...DEFAULT_ACCEPTABLE_STATUSES],
      httpTimeout: 10_000,
      na: {},
      env: {},
      secrets: {},
      backupMaxMiB: 256,
      tierTimeout: 300,
    });
    expect(settings.acceptableStatuses).toContain(200);
    expect(settings.acceptableStatuses).toContain(399);
    expect(settings.acceptableStatuses).not.toContain(400);
  });

  it("reads a valid file and keeps defaults for what it leaves out", async () => {
    await recipeWith(
      "valid",
      [
        "deployTimeout: 120",
        "healthPath: /login",
        "acceptableStatuses: [200, 301, 302, 401]",
        "upgradeBase: 1.0.0+1.0",
        "na:",
        "  backup: stateless",
        "  restore: stateless",
        "env:",
        "  LOG_LEVEL: debug",
        "  WORKERS: 2",
        "probeImage: taster-lab/probe:latest",
        "secrets:",
        "  smtp_password: not-a-real-one",
      ].join("\n"),
    );
    expect(await loadSettings(dir, "valid")).toEqual({
      deployTimeout: 120,
      healthPath: "/login",
      acceptableStatuses: [200, 301, 302, 401],
      httpTimeout: 10_000,
      upgradeBase: "1.0.0+1.0",
      na: { backup: "stateless", restore: "stateless" },
      env: { LOG_LEVEL: "debug", WORKERS: "2" },
      secrets: { smtp_password: "not-a-real-one" },
      probeImage: "taster-lab/probe:latest",
      backupMaxMiB: 256,
      tierTimeout: 300,
    });
  });

  it("accepts upgradeBase: none and an empty file", async () => {
    await recipeWith("none", "upgradeBase: none\n");
    expect((await loadSettings(dir, "none")).upgradeBase).toBe("none");
    await recipeWith("empty", "# nothing yet\n");
    // No default port: the recipe's traefik label decides unless taster.yml says otherwise.
    expect((await loadSettings(dir, "empty")).healthPort).toBeUndefined();
  });

  it("names an unknown key and the file", async () => {
    const file = await recipeWith("typo", "healthPath: /\nhealthpath: /x\n");
    await expect(loadSettings(dir, "typo")).rejects.toThrow(`${file}: unknown key "healthpath"`);
  });

  it("names a key with a wrong type and the file", async () => {
    const file = await recipeWith("wrong-type", "healthPort: eighty\n");
    await expect(loadSettings(dir, "wrong-type")).rejects.toThrow(
      `${file}: healthPort: Invalid input: expected number, received string`,
    );
  });

  it("names bad values inside lists and maps", async () => {
    const file = await recipeWith("nested", "acceptableStatuses: [200, 999]\nna:\n  install: no\n");
    const error = await loadSettings(dir, "nested").catch((e: Error) => e);
    expect(String(error)).toContain(file);
    expect(String(error)).toContain("acceptableStatuses.1");
    expect(String(error)).toContain(`na: "install" cannot be declared N/A`);
  });

  it("refuses an upgradeBase that is not a release tag, and invalid YAML", async () => {
    await recipeWith("base", "upgradeBase: latest\n");
    await expect(loadSettings(dir, "base")).rejects.toThrow(/upgradeBase: must be a release tag/);
    const file = await recipeWith("yaml", "healthPath: [\n");
    await expect(loadSettings(dir, "yaml")).rejects.toThrow(`${file}: not valid YAML`);
  });

  it("refuses env overrides whose names would steer Taster's processes, naming each key and the file", async () => {
    const file = await recipeWith(
      "steering",
      "env:\n  LOG_LEVEL: debug\n  PATH: /tmp/bin\n  LD_PRELOAD: /tmp/x.so\n  COMPOSE_FILE: compose.yml\n",
    );
    const error = String(await loadSettings(dir, "steering").catch((e: Error) => e));
    expect(error).toContain(file);
    expect(error).toContain("env.PATH");
    expect(error).toContain("env.LD_PRELOAD");
    expect(error).not.toContain("LOG_LEVEL");
    expect(error).not.toContain("COMPOSE_FILE");
  });

  it("does not silently ignore a taster.yaml", async () => {
    await recipeWith("yaml-ext", "healthPath: /x\n", "taster.yaml");
    await expect(loadSettings(dir, "yaml-ext")).rejects.toThrow(/taster\.yaml is not read/);
  });

  it("loads the settings of every recipe maintained in this repository", async () => {
    const recipesTests = join(dirname(fileURLToPath(import.meta.url)), "../../../recipes-tests");
    for (const recipe of ["hello-web", "notes", "broken"]) {
      await expect(loadSettings(recipesTests, recipe)).resolves.toHaveProperty("healthPath");
    }
  });
});

describe("docs/settings.md", () => {
  it("is the table generated from the schema", async () => {
    const onDisk = await readFile(SETTINGS_DOC_PATH, "utf8").catch(() => "");
    if (onDisk !== settingsPage()) {
      throw new Error(
        `docs/settings.md is out of date with the settings schema; run: ${SETTINGS_DOC_COMMAND}`,
      );
    }
    for (const key of ["deployTimeout", "acceptableStatuses", "upgradeBase", "tierTimeout"]) {
      expect(onDisk).toMatch(new RegExp(`^\\| \`${key}\` +\\|`, "m"));
    }
  });
});
