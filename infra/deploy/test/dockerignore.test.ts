import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab } from "../../lab/src/index";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..", "..");

// A checkout that ran the lab and the tests, as the Docker builder would receive it with the
// repository's .dockerignore: what reaches the image is listed by a build step inside it.
const FILES = {
  kept: [
    "apps/cli/src/main.ts",
    "package.json",
    "pnpm-lock.yaml",
    "infra/deploy/entrypoint.sh",
    "infra/deploy/.env.sample",
    "infra/lab/recipes/hello-web/.env.sample",
  ],
  excluded: [
    ".taster/lab/ssh/id_ed25519",
    ".taster/lab/redis.conf",
    ".taster/runs/r1/run.log",
    "node_modules/express/index.js",
    "apps/cli/node_modules/commander/index.js",
    "test-artifacts/chaos/bridge.txt",
    ".git/HEAD",
    "keys/id_ed25519",
    "infra/deploy/tls/server.key",
    "bench/out.log",
    "infra/deploy/.env",
    "allowlist/repo-local.yml",
    "allowlist/triggerers.yml",
  ],
};

describe(".dockerignore: the image context", () => {
  const dir = join(tmpdir(), `taster-context-${randomBytes(4).toString("hex")}`);
  const tag = `taster-admin/context-test:${randomBytes(4).toString("hex")}`;
  let listed: string[] = [];

  beforeAll(async () => {
    const lab = await ensureLab();
    await mkdir(dir, { recursive: true });
    for (const file of [...FILES.kept, ...FILES.excluded]) {
      await mkdir(dirname(join(dir, file)), { recursive: true });
      await writeFile(join(dir, file), "x");
    }
    await copyFile(join(ROOT, ".dockerignore"), join(dir, ".dockerignore"));
    // A busybox image the lab has: copy the context, list it (the classic builder prints RUN output).
    await writeFile(
      join(dir, "Dockerfile.context"),
      `FROM ${lab.images.probe}\nCOPY . /ctx\nRUN cd /ctx && find . -type f | sed 's|^./||' | sed 's/^/CTX /'\n`,
    );
    const { stdout } = await run(
      "docker",
      ["build", "--no-cache", "--rm", "-t", tag, "-f", "Dockerfile.context", "."],
      {
        cwd: dir,
        env: { ...process.env, DOCKER_HOST: lab.dockerHost, DOCKER_BUILDKIT: "0" },
        maxBuffer: 8 << 20,
      },
    );
    listed = stdout
      .split("\n")
      .filter((line) => line.startsWith("CTX "))
      .map((line) => line.slice(4));
  }, 300_000);

  afterAll(async () => {
    await run("docker", ["image", "rm", "-f", tag]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  test("keeps the sources, the lockfile and the deployment's files", () => {
    for (const file of FILES.kept) expect([file, listed.includes(file)]).toEqual([file, true]);
  });

  test("leaves out local state, keys, node_modules, logs, history and the allowlist", () => {
    for (const file of FILES.excluded) expect([file, listed.includes(file)]).toEqual([file, false]);
  });
});
