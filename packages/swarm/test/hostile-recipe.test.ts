// biome-ignore-all lint/suspicious/noTemplateCurlyInString: env and compose text holds literal ${VAR} references
/**
 * A recipe pull request is hostile input: its env must never become the environment of Taster's
 * own processes, its compose files must not read the worker's variables or files, and what Taster
 * reads back out of its containers is capped. Real parts: the lab's engine and hello-web.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { TasterError } from "@taster/core";
import { ensureLab, type LabInfo } from "@taster/lab";
import {
  backupStack,
  connectHost,
  deployStack,
  execInService,
  type Host,
  httpProbe,
  type Plan,
  planRecipe,
  teardownStack,
  waitForConvergence,
} from "../src/index";
import { checkout, headSha, removeTempDirs, tempDir, uniqueStack } from "./helpers";

let lab: LabInfo;
let host: Host;
const stack = uniqueStack("hr");
const domain = `${stack}.test`;
/** What the worker's environment holds; the recipe must never see it. */
const CANARY = `ghp_canary${process.pid}${Date.now().toString(36)}`;
const savedToken = process.env.TASTER_GITHUB_TOKEN;

beforeAll(async () => {
  lab = await ensureLab();
  host = await connectHost(lab.dockerHost);
  process.env.TASTER_GITHUB_TOKEN = CANARY;
});

afterAll(async () => {
  if (savedToken === undefined) delete process.env.TASTER_GITHUB_TOKEN;
  else process.env.TASTER_GITHUB_TOKEN = savedToken;
  await teardownStack(host, stack).catch(() => {});
  await host.close();
  await removeTempDirs();
});

async function fixture(files: Record<string, string>): Promise<string> {
  const dir = await tempDir("hostile");
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const recipeFailure = async (promise: Promise<unknown>): Promise<string> => {
  const error = await promise.then(
    () => new Error("expected a recipe error, the plan succeeded"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TasterError);
  expect((error as TasterError).kind).toBe("recipe");
  return (error as Error).message;
};

const COMPOSE = 'version: "3.8"\nservices:\n  app:\n    image: taster-lab/web:1.0\n';

describe("a hostile recipe env never steers Taster's processes", () => {
  it("PATH pointing at the recipe's own bin/docker: refused naming PATH and .env.sample:N; the fake docker never runs", async () => {
    const marker = join(await tempDir("marker"), "fake-docker-ran");
    const dir = await fixture({
      "compose.yml": COMPOSE,
      "bin/docker": `#!/bin/sh\necho "$TASTER_GITHUB_TOKEN" > ${marker}\nexec /usr/bin/docker "$@"\n`,
    });
    await chmod(join(dir, "bin/docker"), 0o755);
    await writeFile(join(dir, ".env.sample"), `TYPE=evil\nPATH=${dir}/bin:/usr/bin:/bin\n`);
    const message = await recipeFailure(planRecipe(host, { dir, stack, domain }));
    expect(message).toContain("PATH (.env.sample:2)");
    expect(existsSync(marker)).toBe(false);
  });

  it("NODE_OPTIONS, LD_PRELOAD and DOCKER_HOST are refused the same way, from .env.sample and abra.sh", async () => {
    const dir = await fixture({
      "compose.yml": COMPOSE,
      ".env.sample": "NODE_OPTIONS=--require ./evil.cjs\nDOMAIN=x.test\n",
      "abra.sh": "export LD_PRELOAD=./evil.so\nexport DOCKER_HOST=tcp://attacker.invalid:2375\n",
    });
    const message = await recipeFailure(planRecipe(host, { dir, stack, domain }));
    expect(message).toContain("NODE_OPTIONS (.env.sample:1)");
    expect(message).toContain("LD_PRELOAD (abra.sh:1)");
    expect(message).toContain("DOCKER_HOST (abra.sh:2)");
  });

  it("a compose file cannot hand the worker's files to the stack (env_file, secret or config file outside the recipe)", async () => {
    const outside = await fixture({ "worker.env": `TASTER_GITHUB_TOKEN=${CANARY}\n` });
    const envFile = await fixture({
      "compose.yml": `${COMPOSE}    env_file: ${join(outside, "worker.env")}\n`,
    });
    const message = await recipeFailure(planRecipe(host, { dir: envFile, stack, domain }));
    expect(message).toContain("env_file");
    expect(message).toContain("outside the recipe");
    expect(message).not.toContain(CANARY);
    const secretFile = await fixture({
      "compose.yml": `${COMPOSE}secrets:\n  key:\n    file: ./key\n`,
    });
    // A symlink inside the recipe that leads to a file of the worker.
    await symlink(join(outside, "worker.env"), join(secretFile, "key"));
    expect(await recipeFailure(planRecipe(host, { dir: secretFile, stack, domain }))).toContain(
      "secret key: file",
    );
  });
});

describe("compose interpolation sees the app env only, never the worker's variables", () => {
  let plan: Plan;

  it("${TASTER_GITHUB_TOKEN} in compose renders empty: neither the plan nor the deployed service holds the worker's value", async () => {
    const dir = await checkout(lab, "hello-web", "1.0.0+1.0");
    const compose = await readFile(join(dir, "compose.yml"), "utf8");
    await writeFile(
      join(dir, "compose.yml"),
      compose
        .replace(
          "    environment:\n",
          "    environment:\n      - LEAK=${TASTER_GITHUB_TOKEN}\n      - LEAK_HOME=${HOME}\n      - LEAK_PATH=${PATH}\n",
        )
        .replace(
          '        - "backupbot.backup=true"',
          '        - "backupbot.backup=true"\n        - "leak=${TASTER_GITHUB_TOKEN}"',
        ),
    );
    plan = await planRecipe(host, { dir, stack, domain });
    expect(JSON.stringify(plan)).not.toContain(CANARY);
    expect(JSON.stringify(plan.rendered)).not.toContain(process.env.HOME ?? "/root");
    await deployStack(host, plan, { chaos: true, chaosVersion: await headSha(dir) });
    await waitForConvergence(host, plan, { timeoutSeconds: 90 });
    const service = await host.docker.getService(`${stack}_app`).inspect();
    expect(JSON.stringify(service.Spec)).not.toContain(CANARY);
    const env = await execInService(host, stack, "app", ["env"]);
    expect(env.stdout).toContain("LEAK=\n");
    expect(env.stdout).not.toContain(CANARY);
  }, 180_000);

  it("exec output is capped: the last bytes are kept after a note of what was dropped", async () => {
    const big = await execInService(
      host,
      stack,
      "app",
      ["sh", "-c", "head -c 6000000 /dev/zero | tr '\\0' a; echo END"],
      {
        maxOutputBytes: 1024 * 1024,
      },
    );
    expect(big.exitCode).toBe(0);
    expect(big.stdout.length).toBeLessThan(1024 * 1024 + 200);
    expect(big.stdout).toMatch(/^\[taster: 4\.\d MiB of output dropped, only the last 1\.0 MiB kept\]\n/);
    expect(big.stdout.endsWith("aEND\n")).toBe(true);
  }, 60_000);

  it("an HTTP body is capped: the first bytes are kept and reading stops", async () => {
    await execInService(host, stack, "app", [
      "sh",
      "-c",
      "head -c 3000000 /dev/zero | tr '\\0' b > /var/www/big.txt",
    ]);
    const response = await httpProbe(host, plan, {
      path: "/big.txt",
      image: lab.images.probe,
      maxBodyBytes: 65_536,
    });
    expect(response.status).toBe(200);
    expect(response.body.startsWith("b".repeat(65_536))).toBe(true);
    expect(response.body).toMatch(/\n\[taster: .* of output dropped, only the first 64\.0 KiB kept\]$/);
  }, 60_000);

  it("a backup larger than the limit fails the backup as a recipe error naming the volume and the limit", async () => {
    const artifactDir = await tempDir("hr-backup");
    const message = await recipeFailure(backupStack(host, plan, artifactDir, { maxBytes: 256 * 1024 }));
    expect(message).toContain("volume content (/var/www)");
    expect(message).toContain("256.0 KiB");
    await rm(join(artifactDir, `${stack}-backup.tar`), { force: true });
    expect(existsSync(join(artifactDir, `${stack}-backup.tar`))).toBe(false);
  }, 60_000);
});
