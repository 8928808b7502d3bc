import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { markdownText } from "@taster/core";
import { ensureLab, type LabInfo } from "@taster/lab";
import {
  ConvergenceError,
  connectHost,
  deployStack,
  type Host,
  planRecipe,
  teardownStack,
  waitForConvergence,
} from "../src/index";
import { checkout, removeTempDirs, tempDir, uniqueStack } from "./helpers";

let lab: LabInfo;
let host: Host;
const stacks: string[] = [];
const abra = { chaos: false, chaosVersion: "0000000" };

beforeAll(async () => {
  lab = await ensureLab();
  host = await connectHost(lab.dockerHost);
});

afterAll(async () => {
  for (const stack of stacks) expect(await teardownStack(host, stack)).toEqual({ residue: [] });
  await host.close();
  await removeTempDirs();
});

function newStack(tag: string): string {
  const stack = uniqueStack(tag);
  stacks.push(stack);
  return stack;
}

/** Deploys a one-service fixture recipe and returns how its convergence ended. */
async function deployFixture(tag: string, service: string[]): Promise<ConvergenceError> {
  const dir = await tempDir(tag);
  const compose = ['version: "3.8"', "services:", "  app:", ...service.map((line) => `    ${line}`)];
  await writeFile(join(dir, "compose.yml"), `${compose.join("\n")}\n`);
  const stack = newStack(tag);
  const plan = await planRecipe(host, { dir, stack, domain: `${stack}.test` });
  await deployStack(host, plan, abra);
  // Generous: a crash loop takes three task cycles, each 15–20 s on a loaded machine; the
  // reason is what is asserted here, not how fast it comes (bench/converge.ts measures that).
  return waitForConvergence(host, plan, { timeoutSeconds: 120 }).then(
    () => {
      throw new Error("expected the deploy not to converge");
    },
    (error: unknown) => error as ConvergenceError,
  );
}

jest.setTimeout(180_000);

describe("convergence failures are reported fast, with the reason", () => {
  it("broken: fails within its .env.sample timeout, naming the failing healthcheck and its output", async () => {
    const dir = await checkout(lab, "broken");
    const stack = newStack("br");
    const plan = await planRecipe(host, { dir, stack, domain: `${stack}.test` });
    expect(plan.timeoutSeconds).toBe(30);
    await deployStack(host, plan, abra);
    const started = Date.now();
    const error = await waitForConvergence(host, plan).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(plan.timeoutSeconds * 1000);
    expect(error).toBeInstanceOf(ConvergenceError);
    const failure = error as ConvergenceError;
    expect(failure.kind).toBe("recipe");
    expect(failure.service).toBe("app");
    expect(failure.message).toMatch(/^service app did not converge: healthcheck failing/);
    expect(failure.reason).toBe("healthcheck failing");
    expect(failure.details).toContain("http://127.0.0.1:8080/healthz");
    expect(failure.details).toMatch(/Connection refused|can't connect/i);
  });

  it("gives up at the timeout naming what it was still waiting for", async () => {
    const dir = await checkout(lab, "broken");
    const stack = newStack("bt");
    const plan = await planRecipe(host, { dir, stack, domain: `${stack}.test`, env: { TIMEOUT: "2" } });
    expect(plan.timeoutSeconds).toBe(2);
    await deployStack(host, plan, abra);
    const error = (await waitForConvergence(host, plan).catch((e: unknown) => e)) as ConvergenceError;
    expect(error).toBeInstanceOf(ConvergenceError);
    expect(error.reason).toBe("timeout");
    expect(error.message).toMatch(/not converged after 2s \(.+\)/);
  });

  it("stops at once when the run is aborted, and names a service that was never deployed", async () => {
    const stack = newStack("ab");
    const plan = await planRecipe(host, {
      dir: await checkout(lab, "broken"),
      stack,
      domain: `${stack}.test`,
    });
    const controller = new AbortController();
    controller.abort();
    await expect(waitForConvergence(host, plan, { signal: controller.signal })).rejects.toThrow(/aborted/);
    const missing = (await waitForConvergence(host, plan).catch((e: unknown) => e)) as ConvergenceError;
    expect(missing).toBeInstanceOf(ConvergenceError);
    expect(missing.service).toBe("app");
    expect(missing.reason).toBe("service missing");
  });

  it("quotes a failing probe by the last lines of its output, where the reason is", async () => {
    // A Python probe: the traceback's first line says nothing, its last line says why.
    const frames = Array.from(
      { length: 12 },
      (_, i) => `echo '  File /usr/lib/python3/dist-packages/probe/check.py, line ${i}, in check'`,
    );
    const probe = [
      "echo 'Traceback (most recent call last):'",
      ...frames,
      "echo 'ConnectionRefusedError: [Errno 111] Connection refused'",
      "exit 1",
    ].join("; ");
    const error = await deployFixture("pt", [
      "image: taster-lab/web:1.0",
      "healthcheck:",
      `  test: ["CMD", "sh", "-c", ${JSON.stringify(probe)}]`,
      "  interval: 1s",
      "  retries: 2",
    ]);
    expect(error.reason).toBe("healthcheck failing");
    // What the PR comment's table cell shows of it (one line, cut at 300 characters).
    expect(markdownText(error.message)).toContain(
      "ConnectionRefusedError: \\[Errno 111\\] Connection refused",
    );
  });

  it("reports a missing image", async () => {
    const error = await deployFixture("im", ["image: taster-lab/does-not-exist:9.9"]);
    expect(error.reason).toBe("image missing");
    expect(error.details).toMatch(/No such image/i);
  });

  it("reports a crash loop with the exit code", async () => {
    const error = await deployFixture("cl", [
      "image: taster-lab/web:1.0",
      'command: ["sh", "-c", "echo starting; exit 7"]',
      "deploy:",
      "  restart_policy:",
      "    delay: 1s",
    ]);
    expect(error.reason).toBe("crash loop");
    expect(error.details).toContain("exit code 7");
  });

  it("reports a crash loop, not a failing healthcheck, when the crashing service has a healthcheck", async () => {
    // Docker marks the exited containers "unhealthy" although no probe ever ran.
    const error = await deployFixture("ch", [
      "image: taster-lab/web:1.0",
      'command: ["sh", "-c", "exit 3"]',
      "healthcheck:",
      '  test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]',
      "  interval: 2s",
      "  start_period: 10s",
      "deploy:",
      "  restart_policy:",
      "    delay: 1s",
    ]);
    expect(error.reason).toBe("crash loop");
    expect(error.message).toMatch(/^service app did not converge: crash loop/);
    expect(error.details).toContain("exit code 3");
  });
});
