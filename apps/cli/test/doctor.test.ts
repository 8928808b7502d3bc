import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab } from "@taster/lab";

const TASTER = join(import.meta.dirname, "..", "..", "..", "taster");

async function doctor(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(TASTER, ["doctor", "--lab"], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

describe("taster doctor --lab", () => {
  beforeAll(async () => {
    await ensureLab();
  });

  it("is all green with the lab up", async () => {
    const { code, stdout } = await doctor({});
    expect(stdout).not.toContain("FAIL");
    expect(stdout).toMatch(/^ok\s+swarm\s+this engine is a swarm manager$/m);
    // Measured, whichever way it comes out (this machine kind has no IPVS: dnsrr).
    expect(stdout).toMatch(
      /^ok\s+vips\s+swarm VIPs (answer|do not answer \(no IPVS\?\): deploys here use endpoint_mode dnsrr)/m,
    );
    expect(stdout).toContain("all good");
    expect(code).toBe(0);
  });

  it("names each missing part and how to fix it when the lab is down", async () => {
    // A lab whose parts answer nowhere: what `doctor` sees on a machine where the lab is down.
    const dir = await mkdtemp(join(tmpdir(), "taster-doctor-"));
    await writeFile(
      join(dir, "lab.json"),
      JSON.stringify({ dockerHost: "tcp://127.0.0.1:9", redisUrl: "redis://127.0.0.1:9" }),
    );
    const { code, stdout } = await doctor({ TASTER_LAB_DIR: dir });
    expect(code).toBe(1);
    for (const part of ["engine", "swarm", "proxy", "redis"]) {
      expect(stdout).toMatch(new RegExp(`^FAIL\\s+${part}\\s`, "m"));
    }
    expect(stdout).toMatch(/FAIL\s+engine\s+no Docker engine at tcp:\/\/127\.0\.0\.1:9/);
    expect(stdout).toContain("fix: run `./taster lab up`");
    expect(stdout).toContain("4 problem(s) found");
  });
});
