// biome-ignore-all lint/suspicious/noTemplateCurlyInString: env and compose text holds literal ${VAR} references
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { TasterError } from "@taster/core";
import { loadAppEnv } from "../src/env";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A throwaway recipe dir holding the given files. */
async function recipe(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "taster-env-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const opts = { stackName: "st1", domain: "st1.test" };

describe("loadAppEnv", () => {
  it("parses quotes, comments, export prefixes and trailing comments like abra", async () => {
    const dir = await recipe({
      "compose.yml": "",
      ".env.sample": [
        "# a comment",
        "",
        "PLAIN=hello world  # trailing comment",
        "HASH_IN_VALUE=a#b",
        "export EXPORTED=yes",
        "SINGLE='no $PLAIN expansion # here'",
        'DOUBLE="say \\"hi\\" to $PLAIN" # comment',
        "  INDENTED=1",
        "EMPTY=",
      ].join("\n"),
    });
    const { env } = await loadAppEnv(dir, opts);
    expect(env).toMatchObject({
      PLAIN: "hello world",
      HASH_IN_VALUE: "a#b",
      EXPORTED: "yes",
      SINGLE: "no $PLAIN expansion # here",
      DOUBLE: 'say "hi" to hello world',
      INDENTED: "1",
      EMPTY: "",
    });
  });

  it("expands $VAR and ${VAR} from earlier keys, with defaults, and always sets STACK_NAME and DOMAIN", async () => {
    const dir = await recipe({
      "compose.yml": "",
      ".env.sample": [
        "DOMAIN=sample.example.com",
        "URL=https://${DOMAIN}/x",
        "NAME=$STACK_NAME-db",
        "LATER=$DEFINED_BELOW",
        "DEFINED_BELOW=1",
        "FALLBACK=${MISSING:-dflt}",
      ].join("\n"),
    });
    const { env } = await loadAppEnv(dir, opts);
    expect(env.DOMAIN).toBe("st1.test");
    expect(env.STACK_NAME).toBe("st1");
    expect(env.URL).toBe("https://st1.test/x");
    expect(env.NAME).toBe("st1-db");
    expect(env.LATER).toBe("");
    expect(env.FALLBACK).toBe("dflt");
  });

  it("follows the COMPOSE_FILE chain, defaulting to compose.yml", async () => {
    const chained = await recipe({
      "compose.yml": "",
      "compose.a.yml": "",
      ".env.sample": [
        'COMPOSE_FILE="compose.yml"',
        'COMPOSE_FILE="$COMPOSE_FILE:compose.a.yml"',
        '#COMPOSE_FILE="$COMPOSE_FILE:compose.never.yml"',
      ].join("\n"),
    });
    expect((await loadAppEnv(chained, opts)).composeFiles).toEqual(["compose.yml", "compose.a.yml"]);
    const plain = await recipe({ "compose.yml": "", ".env.sample": "TYPE=x\n" });
    const result = await loadAppEnv(plain, opts);
    expect(result.composeFiles).toEqual(["compose.yml"]);
    expect(result.env.COMPOSE_FILE).toBe("compose.yml");
  });

  it("names the missing COMPOSE_FILE entry and the .env.sample line that added it", async () => {
    const dir = await recipe({
      "compose.yml": "",
      ".env.sample": ['COMPOSE_FILE="compose.yml"', "", 'COMPOSE_FILE="$COMPOSE_FILE:compose.gone.yml"'].join(
        "\n",
      ),
    });
    const error = await loadAppEnv(dir, opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TasterError);
    expect((error as TasterError).kind).toBe("recipe");
    expect((error as Error).message).toContain('"compose.gone.yml"');
    expect((error as Error).message).toContain(".env.sample:3");
  });

  it("reads secret length hints and abra.sh exports without running abra.sh", async () => {
    const dir = await recipe({
      "compose.yml": "",
      ".env.sample": [
        "SECRET_DB_PASSWORD_VERSION=v1 # length=32",
        "SECRET_API_KEY_VERSION=v2",
        "CONF_VERSION=v0",
      ].join("\n"),
      "abra.sh": [
        "# config versions",
        "export CONF_VERSION=v3",
        'export QUOTED="q-$STACK_NAME"',
        "touch /should-never-run",
        "custom_cmd() {",
        "  export INSIDE_FUNCTION=1",
        "}",
      ].join("\n"),
    });
    const { env, secretLengths } = await loadAppEnv(dir, opts);
    expect(secretLengths).toEqual({ db_password: 32 });
    expect(env.SECRET_API_KEY_VERSION).toBe("v2");
    expect(env.CONF_VERSION).toBe("v3");
    expect(env.QUOTED).toBe("q-st1");
    expect(env.INSIDE_FUNCTION).toBeUndefined();
  });

  it("lets overrides win over the file, abra.sh and DOMAIN", async () => {
    const dir = await recipe({
      "compose.yml": "",
      ".env.sample": "A=1\nB=$A\n",
      "abra.sh": "export C=abra\n",
    });
    const { env } = await loadAppEnv(dir, { ...opts, overrides: { A: "9", C: "mine", DOMAIN: "o.test" } });
    expect(env).toMatchObject({ A: "9", B: "9", C: "mine", DOMAIN: "o.test" });
  });

  it("names file and line for malformed lines", async () => {
    const unterminated = await recipe({ "compose.yml": "", ".env.sample": "OK=1\nBAD='open\n" });
    await expect(loadAppEnv(unterminated, opts)).rejects.toThrow(/\.env\.sample:2: unterminated ' quote/);
    const noEquals = await recipe({ "compose.yml": "", ".env.sample": "\n\nnot an assignment\n" });
    await expect(loadAppEnv(noEquals, opts)).rejects.toThrow(/\.env\.sample:3: expected KEY=value/);
    const badAbra = await recipe({ "compose.yml": "", "abra.sh": 'export X="unterminated\n' });
    await expect(loadAppEnv(badAbra, opts)).rejects.toThrow(/abra\.sh:1/);
  });

  it("refuses every key that would steer a process, naming each with its file and line", async () => {
    const dir = await recipe({
      "compose.yml": "",
      ".env.sample": [
        "DOMAIN=ok.example.com",
        "PATH=/recipe/bin:/usr/bin:/bin",
        "NODE_OPTIONS=--require ./evil.cjs",
        "LETS_ENCRYPT_ENV=production",
      ].join("\n"),
      "abra.sh":
        "export APP_CONF_VERSION=v1\nexport LD_PRELOAD=/recipe/evil.so\nexport http_proxy=http://x\n",
    });
    const error = await loadAppEnv(dir, { ...opts, overrides: { TASTER_GITHUB_TOKEN: "x" } }).catch((e) => e);
    expect(error).toBeInstanceOf(TasterError);
    expect((error as TasterError).kind).toBe("recipe");
    const message = (error as Error).message;
    for (const named of [
      "PATH (.env.sample:2)",
      "NODE_OPTIONS (.env.sample:3)",
      "LD_PRELOAD (abra.sh:2)",
      "http_proxy (abra.sh:3)",
      "TASTER_GITHUB_TOKEN (the env overrides)",
    ])
      expect(message).toContain(named);
    expect(message).not.toMatch(/DOMAIN|LETS_ENCRYPT_ENV|APP_CONF_VERSION/);
  });

  it("keeps the keys real recipes use: COMPOSE_FILE, TIMEOUT, *_VERSION, SECRET_*_VERSION, LETS_ENCRYPT_ENV", async () => {
    const dir = await recipe({
      "compose.yml": "",
      "compose.mail.yml": "",
      ".env.sample": [
        "TYPE=bonfire",
        "DOMAIN=app.example.com",
        "LETS_ENCRYPT_ENV=production",
        'COMPOSE_FILE="compose.yml"',
        'COMPOSE_FILE="$COMPOSE_FILE:compose.mail.yml"',
        "TIMEOUT=120",
        "ENABLE_AUTO_UPDATE=true",
        "ENABLE_BACKUPS=true",
        "SECRET_DB_PASSWORD_VERSION=v1 # length=32",
        "EXTRA_DOMAINS=', `www.app.example.com`'",
        "LOG_LEVEL=info",
        "TZ=Europe/Berlin",
        "GITHUB_TOKEN=xyz",
        "GOTIFY_DEFAULTUSER_NAME=admin",
      ].join("\n"),
      "abra.sh": "export ENTRYPOINT_CONF_VERSION=v2\nexport NGINX_CONF_VERSION=v1\n",
    });
    const { env, composeFiles } = await loadAppEnv(dir, opts);
    expect(composeFiles).toEqual(["compose.yml", "compose.mail.yml"]);
    expect(env).toMatchObject({ TIMEOUT: "120", ENTRYPOINT_CONF_VERSION: "v2", TZ: "Europe/Berlin" });
  });

  it("refuses an env file, abra.sh or compose file that is a symlink leading outside the recipe", async () => {
    const outside = await recipe({ "worker.env": "TOKEN_LIKE=from-the-worker\n", "x.yml": "" });
    for (const [name, files] of [
      [".env.sample", { "compose.yml": "" }],
      ["abra.sh", { "compose.yml": "" }],
      ["compose.yml", {}],
    ] as const) {
      const dir = await recipe(files);
      await symlink(join(outside, name === "compose.yml" ? "x.yml" : "worker.env"), join(dir, name));
      await expect(loadAppEnv(dir, opts)).rejects.toThrow(/outside the recipe/);
    }
    const parent = join(outside, "recipe");
    await mkdir(parent);
    await writeFile(join(parent, ".env.sample"), 'COMPOSE_FILE="../x.yml"\n');
    await expect(loadAppEnv(parent, opts)).rejects.toThrow(
      /"\.\.\/x\.yml" \(from \.env\.sample:1\) resolves outside/,
    );
  });

  it("assembles the lab's notes recipe: chain with a commented overlay, single-quoted title, secret hint", async () => {
    const dir = await mkdtemp(join(tmpdir(), "taster-env-notes-"));
    dirs.push(dir);
    await cp(join(import.meta.dirname, "../../../infra/lab/recipes/notes/01-0.1.0+2.0"), dir, {
      recursive: true,
    });
    const { env, composeFiles, secretLengths } = await loadAppEnv(dir, {
      stackName: "n1",
      domain: "n1.test",
    });
    expect(composeFiles).toEqual(["compose.yml", "compose.healthcheck.yml"]);
    expect(env.NOTES_TITLE).toBe("Team notes for ${DOMAIN}");
    expect(env.APP_CONF_VERSION).toBe("v1");
    expect(env.DEPLOY_TIMEOUT).toBe("120");
    expect(secretLengths).toEqual({ db_password: 32 });
  });
});
