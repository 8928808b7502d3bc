/**
 * Every bench runs in CI in a short mode, so none can rot silently again (bench/trigger once hung
 * for minutes without a line of output). Only that each finishes and prints its figures is checked:
 * timings on a shared CI machine are not asserted (see docs/development.md, "Benchmarks").
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "@jest/globals";

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function bench(name: string, args: string[], timeoutMs: number): Promise<string> {
  const { stdout } = await run(
    join(ROOT, "node_modules", ".bin", "tsx"),
    [join(ROOT, "bench", `${name}.ts`), ...args],
    {
      cwd: ROOT,
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return stdout;
}

describe("benches in short mode", () => {
  it("trigger: comment → job started, printed against the bare BullMQ baseline", async () => {
    const out = await bench("trigger", ["3"], 240_000);
    expect(out).toMatch(/taster: +p50 [\d.]+ ms .*p99 [\d.]+ ms/);
    expect(out).toMatch(/ratio taster\/baseline: p50 ×[\d.]+ +p99 ×[\d.]+/);
  }, 270_000);

  it("webhooks: the http role's throughput, p99 and RSS against the bare handler", async () => {
    const out = await bench("webhooks", ["200", "8", "20"], 360_000);
    expect(out).toMatch(/bridge http \+ intake +\d+ req\/s +ratio +[\d.]+ +p50 [\d.]+ ms +p99 [\d.]+ ms/);
    expect(out).toMatch(/answering process RSS \d+ MiB → peak \d+ MiB/);
  }, 390_000);

  it("bridge-rss: the built http role's memory after start", async () => {
    // Its own build in a scratch directory: the test must not depend on (or replace) dist/.
    const dir = await mkdtemp(join(tmpdir(), "bench-rss-build-"));
    try {
      const built = join(dir, "taster.mjs");
      await run(process.execPath, [join(ROOT, "scripts", "build.mjs"), "--outfile", built], { cwd: ROOT });
      const out = await bench("bridge-rss", ["1", built], 120_000);
      expect(out).toMatch(/built http role RSS after start \d+ MiB; median \d+ MiB/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it("converge: convergence noticed after the last task is healthy, teardown against docker stack rm", async () => {
    const out = await bench("converge", ["2"], 240_000);
    expect(out).toMatch(/teardown over \d+ stacks each/);
    expect(out).toMatch(/residue after taster teardown: none/);
  }, 270_000);

  it("lifecycle: Taster's full lifecycle against the plain script and the deploy-per-tier harness", async () => {
    const out = await bench("lifecycle", ["1"], 480_000);
    expect(out).toMatch(/speed-up vs naive: [\d.]+×/);
    expect(out).toMatch(/plain docker CLI script/);
    expect(out).toMatch(/time to verdict: taster [\d.]+s .* vs plain [\d.]+s .* ratio [\d.]+/);
  }, 510_000);
});
