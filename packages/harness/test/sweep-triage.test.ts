import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import { type Sweep, sweepSchema } from "@taster/contracts";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import { connectHost, STACK_LABEL } from "@taster/swarm";
import { runSweep, type SweepOptions } from "../src/index";

/**
 * Flake triage on the lab's real swarm, with sweep-flaky: a recipe whose custom test fails while the
 * host is under load (recipes-tests/sweep-flaky reads the lab's load marker). The "load" here is a
 * real Taster-labelled service on the host plus the marker; the sweep's re-run waits for the host to
 * be idle, which is when the load goes away.
 */
const MARKER_DIR = "/tmp/taster-sweep-flaky";
const MARKER = join(MARKER_DIR, "load");

let lab: LabInfo;

beforeAll(async () => {
  lab = await ensureLab();
});

afterEach(async () => {
  await rm(MARKER_DIR, { recursive: true, force: true });
});

async function markLoad(who: string): Promise<void> {
  await mkdir(MARKER_DIR, { recursive: true });
  await chmod(MARKER_DIR, 0o755); // the sandboxed test runs as another uid: it must read the marker
  await writeFile(MARKER, `${who}\n`, { mode: 0o644 });
}

/** Another Taster stack on the host: one idle service carrying the stack label, as runs' services do. */
async function startLoad(name: string): Promise<() => Promise<void>> {
  const host = await connectHost(lab.dockerHost);
  const service = await host.docker.createService({
    Name: name,
    Labels: { [STACK_LABEL]: name },
    TaskTemplate: { ContainerSpec: { Image: "taster-lab/web:1.0" } },
  });
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    await rm(MARKER, { force: true });
    await service.remove().catch(() => undefined);
    await host.close();
  };
}

async function sweep(extra: Partial<SweepOptions>): Promise<{ sweep: Sweep; onDisk: Sweep; outDir: string }> {
  const outDir = await mkdtemp(join(tmpdir(), "taster-sweep-"));
  const result = await runSweep({
    targets: [
      {
        recipe: "sweep-flaky",
        repo: `lab/sweep-flaky-${process.pid}`,
        source: recipeRepo(lab, "sweep-flaky"),
      },
    ],
    outDir,
    hostUrl: lab.dockerHost,
    idleTimeoutMs: 30_000,
    ...extra,
  });
  const onDisk = sweepSchema.parse(JSON.parse(await readFile(join(outDir, "sweep.json"), "utf8")));
  return { sweep: result, onDisk, outDir };
}

describe("flake triage", () => {
  test("a tier that fails only under load is green when re-run alone: flake", async () => {
    const loadName = `sweep-load-${process.pid}`;
    await markLoad(loadName);
    const stopLoad = await startLoad(loadName);
    const waitedFor: string[][] = [];
    try {
      const {
        sweep: s,
        onDisk,
        outDir,
      } = await sweep({
        attempts: 2,
        // The load lasts until the re-run waits for the host to be idle: then it goes, as load does.
        onEvent: (_recipe, message) => {
          if (message.includes("waiting for the host to be idle")) {
            waitedFor.push([message]);
            if (message.includes(loadName)) void stopLoad();
          }
        },
      });
      const row = s.recipes[0];
      expect(row?.verdict).toBe("fail");
      expect(row?.version).toBe("1.1.0+1.1");
      expect(row?.base).toBe("1.0.0+1.0");
      expect(row?.tiers.install?.status).toBe("pass");
      expect(row?.tiers.upgrade?.status).toBe("pass");
      expect(row?.tiers.custom?.status).toBe("fail");
      expect(row?.tiers.custom?.classification).toBe("flake");
      expect(row?.classification).toBe("flake");
      const attempts = row?.tiers.custom?.attempts ?? [];
      expect(attempts.map((a) => a.status)).toEqual(["pass"]);
      expect(attempts[0]?.others).not.toContain(loadName);
      expect(waitedFor.some(([m]) => m?.includes(loadName))).toBe(true);
      // The first run's log says why it failed; the re-run's log shows it green, and only install + custom ran.
      const first = await readFile(join(outDir, row?.log ?? ""), "utf8");
      expect(first).toContain("over budget: host under load");
      const rerun = await readFile(join(outDir, attempts[0]?.log ?? ""), "utf8");
      expect(rerun).toContain("custom › tier: PASS");
      const rerunResults = JSON.parse(await readFile(join(outDir, attempts[0]?.results ?? ""), "utf8"));
      expect(rerunResults.tiers.upgrade.naKind).toBe("not-requested");
      expect(onDisk).toEqual(s);
    } finally {
      await stopLoad();
    }
  }, 600_000);

  test("a tier that fails every time, even alone, is genuine after N re-runs", async () => {
    await markLoad("a load that never ends");
    const { sweep: s } = await sweep({ attempts: 2 });
    const row = s.recipes[0];
    expect(row?.tiers.custom?.status).toBe("fail");
    expect(row?.tiers.custom?.attempts?.map((a) => a.status)).toEqual(["fail", "fail"]);
    expect(row?.tiers.custom?.classification).toBe("genuine");
    expect(row?.classification).toBe("genuine");
  }, 600_000);

  test("an engine that refuses connections is infra, not a recipe failure", async () => {
    const { sweep: s } = await sweep({ hostUrl: "tcp://127.0.0.1:1", attempts: 1 });
    const row = s.recipes[0];
    expect(row?.verdict).toBe("error");
    expect(row?.classification).toBe("infra");
    const failed = Object.values(row?.tiers ?? {}).filter((t) => t.classification);
    expect(failed.map((t) => [t.status, t.classification])).toEqual([["error", "infra"]]);
    expect(failed[0]?.attempts?.map((a) => a.status)).toEqual(["error"]);
    expect(failed[0]?.attempts?.[0]?.error).toMatch(/127\.0\.0\.1:1|ECONNREFUSED|refused/i);
  }, 300_000);
});
