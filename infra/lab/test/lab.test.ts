import { execFile } from "node:child_process";
import { chmod, stat } from "node:fs/promises";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, LAB_SCRIPT, type LabInfo } from "../src/index";

const run = promisify(execFile);
let lab: LabInfo;

beforeAll(async () => {
  lab = await ensureLab();
});

describe("the lab", () => {
  it("reports every part up", async () => {
    const { stdout } = await run(LAB_SCRIPT, ["status"]);
    for (const part of ["engine", "proxy", "images", "redis", "sshd", "recipes"]) {
      expect(stdout).toMatch(new RegExp(`^${part}\\s+up\\s`, "m"));
    }
    expect(stdout).toMatch(/manager=true/);
  });

  it("keeps Redis behind a password that an unprivileged user cannot read", async () => {
    // Recipe test code runs as `nobody` on this machine: it must not reach the queue.
    const asNobody = (cmd: string) =>
      run("su", ["nobody", "-s", "/bin/sh", "-c", cmd]).then(
        (r) => r.stdout + r.stderr,
        (e) => String(e.stdout) + String(e.stderr),
      );
    const port = new URL(lab.redisUrl).port;
    expect(new URL(lab.redisUrl).password).toMatch(/^[0-9a-f]{48}$/);
    expect(await asNobody(`redis-cli -p ${port} llen anything`)).toContain("NOAUTH");
    for (const file of ["lab.json", "redis.pass"])
      expect(await asNobody(`cat ${lab.stateDir}/${file}`)).toContain("Permission denied");
  });

  it("makes lab.json root-only again on `up`, even when an older lab left it world-readable", async () => {
    const info = `${lab.stateDir}/lab.json`;
    await chmod(info, 0o644);
    await run(LAB_SCRIPT, ["up"]);
    expect((await stat(info)).mode & 0o777).toBe(0o600);
  });

  it("changes nothing on a second `up`", async () => {
    const { stderr } = await run(LAB_SCRIPT, ["up"]);
    expect(stderr.trim().split("\n")).toEqual([`lab: up (${lab.stateDir}/lab.json)`]);
  });

  it("deploys and removes a small stack on the swarm, leaving nothing behind", async () => {
    const stack = `labtest${process.pid}`;
    const compose = [
      'version: "3.8"',
      "services:",
      "  web:",
      `    image: ${lab.images.web[0]}`,
      "    networks: [proxy]",
      "networks:",
      "  proxy:",
      "    external: true",
    ].join("\n");
    const docker = (...args: string[]) =>
      run("docker", args, { env: { ...process.env, DOCKER_HOST: lab.dockerHost } });
    const deploy = docker("stack", "deploy", "--resolve-image", "never", "--detach=true", "-c", "-", stack);
    deploy.child.stdin?.end(compose);
    await deploy;
    const ls = async () =>
      (await docker("ps", "-q", "--filter", `label=com.docker.stack.namespace=${stack}`)).stdout.trim();
    const until = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < 120 && !(await check()); i++) await new Promise((r) => setTimeout(r, 250));
    };
    // Running, and really serving: a lab image that cannot start its command would fail here.
    const serve = async () => {
      const id = (await ls()).split("\n")[0];
      if (!id) return "";
      return (
        await docker("exec", id, "wget", "-q", "-O", "-", "http://127.0.0.1/").catch(() => ({ stdout: "" }))
      ).stdout;
    };
    await until(async () => (await serve()).includes("taster-lab web 1.0"));
    expect(await serve()).toBe("taster-lab web 1.0\n");

    await docker("stack", "rm", stack);
    await until(async () => (await ls()) === "");
    expect(await ls()).toBe("");
    const services = (
      await docker("service", "ls", "-q", "--filter", `label=com.docker.stack.namespace=${stack}`)
    ).stdout;
    expect(services.trim()).toBe("");
  });
});
