import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { collectConfig } from "../src/index";

const PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----";

describe("GitHub as an App in the configuration", () => {
  it("reads the App id and its key from a file, and reports with check runs", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "taster-app-")), "app.pem");
    await writeFile(file, `${PEM}\n`);
    const { config, problems } = collectConfig({
      TASTER_GITHUB_APP_ID: "123",
      TASTER_GITHUB_APP_PRIVATE_KEY_FILE: file,
    });
    expect(problems).toEqual([]);
    expect(config.forge.github).toMatchObject({ app: { appId: "123", privateKey: PEM }, report: "checks" });
    expect(config.secrets).toContain(PEM);
  });

  it("accepts the key inline with \\n escapes; a token alone keeps commit statuses", () => {
    const inline = collectConfig({
      TASTER_GITHUB_APP_ID: "1",
      TASTER_GITHUB_APP_PRIVATE_KEY: PEM.replace(/\n/g, "\\n"),
    });
    expect(inline.config.forge.github.app?.privateKey).toBe(PEM);
    expect(collectConfig({ TASTER_GITHUB_TOKEN: "ghp_x" }).config.forge.github.report).toBe("statuses");
  });

  it("refuses a token and an App together, checks without an App, a key that is no PEM — never showing the key", () => {
    const both = collectConfig({
      TASTER_GITHUB_TOKEN: "ghp_x",
      TASTER_GITHUB_APP_ID: "1",
      TASTER_GITHUB_APP_PRIVATE_KEY: PEM,
    });
    expect(both.problems.join("\n")).toMatch(
      /TASTER_GITHUB_APP_ID="1": a GitHub App and TASTER_GITHUB_TOKEN are both set: keep one/,
    );
    const checks = collectConfig({ TASTER_GITHUB_TOKEN: "ghp_x", TASTER_GITHUB_REPORT: "checks" });
    expect(checks.problems.join("\n")).toMatch(/TASTER_GITHUB_REPORT="checks": check runs need a GitHub App/);
    const bad = collectConfig({
      TASTER_GITHUB_APP_ID: "1",
      TASTER_GITHUB_APP_PRIVATE_KEY: "hunter2-not-a-key",
    });
    const said = bad.problems.join("\n");
    expect(said).toMatch(/TASTER_GITHUB_APP_PRIVATE_KEY \(value hidden\): is not a PEM private key/);
    expect(said).not.toContain("hunter2");
  });
});
