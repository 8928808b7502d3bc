import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo } from "@taster/lab";

const run = promisify(execFile);
const TASTER = join(import.meta.dirname, "..", "..", "..", "taster");
let lab: LabInfo;

const docker = (...args: string[]) =>
  run("docker", args, { env: { ...process.env, DOCKER_HOST: lab.dockerHost } });
const taster = (...args: string[]) =>
  run(TASTER, ["janitor", ...args], {
    env: { ...process.env, DOCKER_HOST: lab.dockerHost, TASTER_REDIS_URL: "" },
  });
const tasterWithRedis = (...args: string[]) =>
  run(TASTER, ["janitor", ...args], {
    env: { ...process.env, DOCKER_HOST: lab.dockerHost, TASTER_REDIS_URL: lab.redisUrl },
  });

/** A stack as a Taster run would leave it when its worker died: a service labelled with its stack. */
async function orphan(stack: string): Promise<void> {
  await docker(
    "service",
    "create",
    "--detach",
    "--name",
    `${stack}_app`,
    "--label",
    `taster.stack=${stack}`,
    "--label",
    `com.docker.stack.namespace=${stack}`,
    lab.images.web[0] as string,
  );
}

describe("taster janitor", () => {
  const prefix = `jan${process.pid}`;
  beforeAll(async () => {
    lab = await ensureLab();
  });

  it("lists an orphaned stack without touching it, then removes it with --remove", async () => {
    const stack = `${prefix}a`;
    await orphan(stack);
    const dry = await taster("--prefix", prefix, "--min-age", "0");
    expect(dry.stdout).toContain(`would remove ${stack}`);
    expect((await docker("service", "ls", "-q", "--filter", `name=${stack}_`)).stdout.trim()).not.toBe("");

    const removed = await taster("--prefix", prefix, "--min-age", "0", "--remove");
    expect(removed.stdout).toContain(`removed ${stack}`);
    expect((await docker("service", "ls", "-q", "--filter", `name=${stack}_`)).stdout.trim()).toBe("");
  });

  it("leaves young stacks and kept stacks alone, and says so: which, how old, the limit, how to force", async () => {
    const stack = `${prefix}b`;
    await orphan(stack);
    try {
      const young = (await taster("--prefix", prefix)).stdout; // younger than 10 min
      expect(young).toContain(
        `skipped ${stack}: 0 min old, younger than --min-age 10 min (it may be a run starting now); once sure no run uses it: taster janitor --min-age 0 --prefix ${stack} --remove`,
      );
      expect(young).toContain("nothing to clean up; 1 skipped");
      const kept = (await taster("--prefix", prefix, "--min-age", "0", "--keep", stack)).stdout;
      expect(kept).toContain(`skipped ${stack}: given to --keep`);
      expect(kept).toContain("nothing to clean up; 1 skipped");
    } finally {
      await taster("--prefix", prefix, "--min-age", "0", "--remove");
    }
  });

  it("warns loudly when it cannot know which runs are live, and says what it does instead", async () => {
    const blind = await taster("--prefix", prefix);
    expect(blind.stderr).toContain(
      "janitor: WARNING: TASTER_REDIS_URL is not set, so the janitor cannot know which runs are live: only stacks younger than --min-age (10 min) and those given to --keep are left alone",
    );
    const informed = await tasterWithRedis("--prefix", prefix);
    expect(informed.stderr).not.toContain("WARNING");
  });
});
