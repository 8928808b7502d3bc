import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo } from "@taster/lab";
import {
  connectHost,
  deployStack,
  execInService,
  type Host,
  openEvents,
  planRecipe,
  teardownStack,
  waitForConvergence,
} from "../src/index";
import { checkout, headSha, removeTempDirs, tempDir, uniqueStack } from "./helpers";

const run = promisify(execFile);
let lab: LabInfo;
let host: Host | undefined;
const stack = uniqueStack("ss");

beforeAll(async () => {
  lab = await ensureLab();
});

afterAll(async () => {
  if (host) {
    await teardownStack(host, stack).catch(() => {});
    await host.close();
  }
  await removeTempDirs();
});

const sshPort = () => Number(new URL(lab.ssh.url).port || 22);
const hostName = () => `[127.0.0.1]:${sshPort()}`;

/** TCP connections this process holds to the lab's sshd. */
async function sshConnectionsOfThisProcess(): Promise<number> {
  const { stdout } = await run("ss", ["-tnpH", "state", "established", `( dport = :${sshPort()} )`]);
  return stdout.split("\n").filter((line) => line.includes(`pid=${process.pid},`)).length;
}

describe("the SSH transport (lab sshd)", () => {
  it("deploys, converges, execs and tears down over one SSH connection with a pinned host key", async () => {
    host = await connectHost(lab.ssh.url, {
      knownHostsPath: lab.ssh.knownHostsPath,
      privateKeyPath: lab.ssh.privateKeyPath,
    });
    const dir = await checkout(lab, "hello-web", "1.1.0+1.1");
    // Both the Docker CLI (stack config/deploy) and the API go through the same connection.
    const plan = await planRecipe(host, { dir, stack, domain: `${stack}.test` });
    await deployStack(host, plan, { chaos: false, chaosVersion: await headSha(dir) });
    await waitForConvergence(host, plan, { timeoutSeconds: 90 });
    const [a, b, c] = await Promise.all([
      execInService(host, stack, "app", ["cat", "/etc/web-version"]),
      execInService(host, stack, "app", ["hostname"]),
      Promise.all(Array.from({ length: 12 }, () => host?.docker.listServices())),
    ]);
    expect(a.stdout).toBe("1.1\n");
    expect(b.exitCode).toBe(0);
    expect(c).toHaveLength(12);
    expect(await sshConnectionsOfThisProcess()).toBe(1);
    expect(await teardownStack(host, stack)).toEqual({ residue: [] });
  });

  it("serves bursts of API and CLI calls with event streams open, within sshd's session limit", async () => {
    const ssh = host as Host;
    const streams = await Promise.all([1, 2, 3].map(() => openEvents(ssh.docker, Date.now())));
    try {
      for (let round = 0; round < 2; round++) {
        const [services, versions] = await Promise.all([
          Promise.all(Array.from({ length: 20 }, () => ssh.docker.listServices())),
          Promise.all(
            Array.from({ length: 5 }, () => ssh.cli(["version", "--format", "{{.Server.APIVersion}}"])),
          ),
        ]);
        expect(services).toHaveLength(20);
        expect(versions.map((v) => v.stdout.trim())).toEqual(Array(5).fill("1.41"));
      }
    } finally {
      for (const stream of streams) stream.close();
    }
    expect(await sshConnectionsOfThisProcess()).toBe(1);
  });

  it("accepts a hashed known_hosts entry for the host", async () => {
    const hashed = join(await tempDir("kh"), "known_hosts");
    await copyFile(lab.ssh.knownHostsPath, hashed);
    await run("ssh-keygen", ["-q", "-H", "-f", hashed]);
    expect(await readFile(hashed, "utf8")).toMatch(/^\|1\|/);
    const hashedHost = await connectHost(lab.ssh.url, {
      knownHostsPath: hashed,
      privateKeyPath: lab.ssh.privateKeyPath,
    });
    try {
      expect((await hashedHost.docker.version()).ApiVersion).toBeTruthy();
    } finally {
      await hashedHost.close();
    }
  });

  it("refuses a host whose key differs from known_hosts, naming the host", async () => {
    const dir = await tempDir("kh");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "other")]);
    const otherKey = (await readFile(join(dir, "other.pub"), "utf8")).split(" ").slice(0, 2).join(" ");
    const wrong = join(dir, "known_hosts");
    await writeFile(wrong, `${hostName()} ${otherKey}\n`);
    const attempt = connectHost(lab.ssh.url, {
      knownHostsPath: wrong,
      privateKeyPath: lab.ssh.privateKeyPath,
    });
    await expect(attempt).rejects.toThrow(`SSH host key for ${hostName()} does not match`);
  });

  it("without key paths, uses ~/.ssh/known_hosts and ~/.ssh/id_ed25519 (what the deployed worker mounts)", async () => {
    const home = await tempDir("home");
    const ssh = join(home, ".ssh");
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      // Nothing there yet: the error names the file it looked for.
      await expect(connectHost(lab.ssh.url)).rejects.toThrow(
        `cannot read known_hosts file ${join(ssh, "known_hosts")}`,
      );
      await mkdir(ssh);
      await copyFile(lab.ssh.knownHostsPath, join(ssh, "known_hosts"));
      await copyFile(lab.ssh.privateKeyPath, join(ssh, "id_ed25519"));
      const viaDefaults = await connectHost(lab.ssh.url);
      try {
        expect(String(await viaDefaults.docker.ping())).toBe("OK");
      } finally {
        await viaDefaults.close();
      }
    } finally {
      process.env.HOME = saved;
    }
  });

  it("refuses a host that is not in known_hosts at all", async () => {
    const empty = join(await tempDir("kh"), "known_hosts");
    await writeFile(empty, "# nobody\n");
    const attempt = connectHost(lab.ssh.url, {
      knownHostsPath: empty,
      privateKeyPath: lab.ssh.privateKeyPath,
    });
    await expect(attempt).rejects.toThrow(`SSH host ${hostName()} is not in ${empty}`);
  });
});
