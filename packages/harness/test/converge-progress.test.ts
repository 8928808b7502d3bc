import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo } from "@taster/lab";
import { connectHost, deployStack, type Host, planRecipe, teardownStack } from "@taster/swarm";
import { converge } from "../src/converge";
import { startHeartbeat } from "../src/heartbeat";

let lab: LabInfo;
let host: Host;
let dir: string;
const stack = `hb${process.pid}`;

beforeAll(async () => {
  lab = await ensureLab();
  host = await connectHost(lab.dockerHost);
  dir = await mkdtemp(join(tmpdir(), "taster-heartbeat-"));
});

afterAll(async () => {
  if (host) {
    expect(await teardownStack(host, stack)).toEqual({ residue: [] });
    await host.close();
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a quiet wait says what it waits for", () => {
  test("beats every interval while nothing else is said, and a spoken line resets the clock", async () => {
    const lines: string[] = [];
    const beat = startHeartbeat(
      async (ms) => `still ${ms >= 0 ? "waiting" : ""}`,
      (l) => lines.push(l),
      40,
    );
    await new Promise((r) => setTimeout(r, 300));
    const beats = lines.length;
    beat.spoke();
    await new Promise((r) => setTimeout(r, 25));
    expect(lines.length).toBe(beats);
    beat.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(beats).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBe(beats);
  });

  test("converge: progress at least every 10 s while the healthcheck has not answered yet", async () => {
    // The first probe runs after one interval (20 s): "health starting" and no engine event until then.
    await writeFile(
      join(dir, "compose.yml"),
      [
        'version: "3.8"',
        "services:",
        "  app:",
        "    image: taster-lab/web:1.0",
        "    healthcheck:",
        '      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]',
        "      interval: 20s",
        "",
      ].join("\n"),
    );
    const plan = await planRecipe(host, { dir, stack, domain: `${stack}.test` });
    await deployStack(host, plan, { chaos: false, chaosVersion: "0000000" });
    const progress: { at: number; line: string }[] = [];
    const started = Date.now();
    await converge(host, plan, {
      timeoutSeconds: 60,
      onProgress: (line) => progress.push({ at: Date.now() - started, line }),
    });
    const gaps = progress.map((p, i) => p.at - (progress[i - 1]?.at ?? 0));
    expect(Math.max(...gaps)).toBeLessThan(14_000);
    expect(progress.map((p) => p.line)).toContainEqual(
      expect.stringMatching(/^app 0\/1 running, (health|task) \w+, \d+ s$/),
    );
  }, 90_000);
});
