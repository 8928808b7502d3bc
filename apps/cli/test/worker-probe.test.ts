import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo } from "@taster/lab";

const TASTER = join(import.meta.dirname, "..", "..", "..", "taster");

describe("taster worker start-up", () => {
  let lab: LabInfo;
  beforeAll(async () => {
    lab = await ensureLab();
  });

  it("refuses to start on a host without its probe image it cannot pull, saying the fix", async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TASTER_")));
    const started = promisify(execFile)(TASTER, ["worker", "--host", "lab"], {
      env: {
        ...env,
        TASTER_HOSTS: `lab=${lab.dockerHost}@1`,
        // A tag no registry has (and the lab cannot pull at all): the pull fails.
        TASTER_PROBE_IMAGES: "lab=taster-lab/probe:no-such-tag",
        TASTER_REDIS_URL: lab.redisUrl,
        TASTER_GITHUB_TOKEN: "unused",
      },
      timeout: 90_000,
    });
    const failure = (await started.then(
      () => ({ code: 0, stderr: "" }),
      (error) => error,
    )) as { code: number; stderr: string };
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain(
      "taster: host lab lacks its probe image, so every run would fail: could not pull the probe image taster-lab/probe:no-such-tag",
    );
    expect(failure.stderr).toContain(
      "hint: run `docker pull taster-lab/probe:no-such-tag` on the host (or load it there with `docker load`), or set TASTER_PROBE_IMAGES=lab=",
    );
  });
});
