// biome-ignore-all lint/suspicious/noTemplateCurlyInString: env and compose text holds literal ${VAR} references
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { TasterError } from "@taster/core";
import { varsIn } from "../src/compose-vars";
import { loadAppEnv } from "../src/env";
import { newReleaseNotes, operatorSteps } from "../src/release-notes";
import { ALPHABET_DEFAULT, ALPHABET_SPECIAL, parseSecretHint, secretHintOf } from "../src/secret-hints";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function recipe(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "taster-hints-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

describe("secret hints (abra's `# length=… charset=… generate=…`)", () => {
  it("reads length, charset and generate=false from the comment", () => {
    expect(parseSecretHint("length=40 charset=default,special", "x:1")).toEqual({
      length: 40,
      charset: ALPHABET_DEFAULT + ALPHABET_SPECIAL,
      generate: true,
    });
    expect(parseSecretHint("generate=false", "x:1")).toEqual({ charset: ALPHABET_DEFAULT, generate: false });
    expect(parseSecretHint("charset=special length=8", "x:1")).toEqual({
      length: 8,
      charset: ALPHABET_SPECIAL,
      generate: true,
    });
  });

  it("defaults to a passphrase (no length) from abra's default alphabet; prose words are ignored", () => {
    expect(parseSecretHint("the admin password, see README", "x:1")).toEqual({
      charset: ALPHABET_DEFAULT,
      generate: true,
    });
    expect(ALPHABET_DEFAULT).not.toMatch(/[lIO01]/);
  });

  it("only SECRET_<NAME>_VERSION keys declare a secret, named in lower case", () => {
    expect(secretHintOf("SECRET_DB_PASSWORD_VERSION", "length=32", "x:1")).toEqual({
      name: "db_password",
      hint: { length: 32, charset: ALPHABET_DEFAULT, generate: true },
    });
    expect(secretHintOf("DB_PASSWORD", "length=32", "x:1")).toBeUndefined();
  });

  it.each([
    ["length=3", /length=3 is not a secret length abra can generate \(5 to 1024\)/],
    ["length=abc", /length=abc/],
    ["charset=emoji", /charset=emoji names unknown set\(s\) emoji/],
    ["generate=no", /generate=no must be true or false/],
  ])("refuses %s naming the file and line", (comment, message) => {
    let error: unknown;
    try {
      parseSecretHint(comment, ".env.sample:7");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TasterError);
    expect((error as TasterError).message).toMatch(/^\.env\.sample:7: /);
    expect((error as TasterError).message).toMatch(message);
  });

  it("loadAppEnv returns each secret's hint", async () => {
    const dir = await recipe({
      "compose.yml": "",
      ".env.sample": [
        "SECRET_DB_PASSWORD_VERSION=v1 # length=32",
        "SECRET_ROOT_VERSION=v1 # length=40 charset=default,special",
        "SECRET_SMTP_PASSWORD_VERSION=v1 # generate=false",
        "SECRET_PHRASE_VERSION=v1",
      ].join("\n"),
    });
    const { secretHints, secretLengths } = await loadAppEnv(dir, { stackName: "s", domain: "d" });
    expect(secretHints).toEqual({
      db_password: { length: 32, charset: ALPHABET_DEFAULT, generate: true },
      root: { length: 40, charset: ALPHABET_DEFAULT + ALPHABET_SPECIAL, generate: true },
      smtp_password: { charset: ALPHABET_DEFAULT, generate: false },
      phrase: { charset: ALPHABET_DEFAULT, generate: true },
    });
    expect(secretLengths).toEqual({ db_password: 32, root: 40 });
  });

  it("loadAppEnv reads an operator's env file instead of .env.sample when given one", async () => {
    const dir = await recipe({ "compose.yml": "", ".env.sample": "NEW_VAR=head\n" });
    const { env } = await loadAppEnv(dir, {
      stackName: "s",
      domain: "d",
      envFile: { text: "OLD_VAR=base\n", name: ".env (from 1.0.0+1.0's .env.sample)" },
    });
    expect(env.OLD_VAR).toBe("base");
    expect(env.NEW_VAR).toBeUndefined();
  });
});

describe("compose variables without a default", () => {
  it("counts ${X}, $X and ${X:?msg}, not ${X:-d}, ${X-d}, ${X:+v}, $$X or comment lines", () => {
    const text = [
      "image: app:${VERSION}",
      "environment:",
      "  - A=$PLAIN",
      "  - B=${REQUIRED:?set it}",
      "  - C=${WITH_DEFAULT:-x}",
      "  - D=${DASH_DEFAULT-x}",
      "  - E=${ALT:+yes}",
      "  - F=$$ESCAPED",
      "# - G=${COMMENTED}",
    ].join("\n");
    expect(varsIn(text)).toEqual(["VERSION", "PLAIN", "REQUIRED"]);
  });
});

describe("release notes: what they tell operators to add", () => {
  it("reads new notes only, and KEY=value lines, backticked assignments and abra secret commands", async () => {
    const base = await recipe({ "release/1.0.0+1.0": "First release.\n" });
    const head = await recipe({
      "release/1.0.0+1.0": "First release.\n",
      "release/1.1.0+1.0": [
        "Adds an API token. Before upgrading:",
        "",
        "- add `API_TOKEN_URL=https://api.example` and `SECRET_API_KEY_VERSION=v1` to your app's .env",
        "    abra app secret generate <app> api_key v1",
        "- then `abra app secret insert <app> smtp_password v1 <password>`",
        "MAIL_FROM=noreply@example.org",
        "This is prose, not an assignment: X=1 in a sentence.",
      ].join("\n"),
    });
    const notes = await newReleaseNotes(head, base);
    expect(notes.map((n) => n.file)).toEqual(["release/1.1.0+1.0"]);
    expect(operatorSteps(notes)).toEqual({
      env: [
        { key: "API_TOKEN_URL", value: "https://api.example", from: "release/1.1.0+1.0:3" },
        { key: "SECRET_API_KEY_VERSION", value: "v1", from: "release/1.1.0+1.0:3" },
        { key: "MAIL_FROM", value: "noreply@example.org", from: "release/1.1.0+1.0:6" },
      ],
      secrets: [
        { name: "api_key", from: "release/1.1.0+1.0:4" },
        { name: "smtp_password", from: "release/1.1.0+1.0:5" },
      ],
      allSecrets: false,
    });
  });
});
