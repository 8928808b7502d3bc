// Convergence-report latency and teardown time of packages/swarm, on the lab's swarm.
//   ./node_modules/.bin/tsx bench/converge.ts [deploys=10]   (CI runs it with 2: a smoke test)
// 1. For each deploy of hello-web: (time Taster reports convergence) − (engine time of the event
//    of the last task becoming healthy). Target (issue 19): median ≤ 10 ms.
// 2. Teardown: Taster's teardownStack (services → wait for containers → networks, secrets,
//    configs, volumes → residue check) vs `docker stack rm` + polling until the containers are
//    gone, on identical stacks deployed in the same run. Printed as a ratio to that baseline.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureLab, recipeRepo } from "@taster/lab";
import {
  connectHost,
  deployStack,
  type Host,
  openEvents,
  type Plan,
  planRecipe,
  teardownStack,
  waitForConvergence,
} from "@taster/swarm";

const run = promisify(execFile);
const deploys = Math.max(1, Number(process.argv[2] ?? 10));
const lab = await ensureLab();
const host = await connectHost(lab.dockerHost);
const work = await mkdtemp(join(tmpdir(), "taster-bench-converge-"));
await run("git", ["clone", "-q", "--branch", "1.1.0+1.1", recipeRepo(lab, "hello-web"), work]);
const stackName = (kind: string, i: number) => `bcv${kind}${process.pid % 10000}x${i}`;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const fmt = (ms: number) => `${Math.round(ms)} ms`;

/** Deploys a fresh hello-web stack and measures how late Taster reports its convergence. */
async function deployAndMeasure(stack: string): Promise<{ plan: Plan; lateMs: number }> {
  const plan = await planRecipe(host, { dir: work, stack, domain: `${stack}.test` });
  const healthyAt: number[] = [];
  const events = await openEvents(host.docker, Date.now());
  events.on("event", (event) => {
    const service = event.Actor?.Attributes?.["com.docker.swarm.service.name"] ?? "";
    if (event.Action === "health_status: healthy" && service.startsWith(`${stack}_`) && event.timeNano) {
      healthyAt.push(event.timeNano / 1e6);
    }
  });
  try {
    await deployStack(host, plan, { chaos: false, chaosVersion: "bench" });
    const { convergedAt } = await waitForConvergence(host, plan, { timeoutSeconds: 120 });
    // The health event may still be in flight on the stream when convergence is reported.
    for (let i = 0; i < 50 && healthyAt.length < plan.services.length; i++)
      await new Promise((r) => setTimeout(r, 20));
    const lastHealthy = Math.max(...healthyAt);
    if (!Number.isFinite(lastHealthy)) throw new Error(`no health_status event seen for ${stack}`);
    return { plan, lateMs: convergedAt - lastHealthy };
  } finally {
    events.close();
  }
}

/** The baseline a script would do: `docker stack rm`, then poll until the containers are gone. */
async function dockerStackRm(h: Host, stack: string): Promise<void> {
  await h.cli(["stack", "rm", stack]);
  const filters = { label: [`com.docker.stack.namespace=${stack}`] };
  while ((await h.docker.listContainers({ all: true, filters })).length > 0)
    await new Promise((r) => setTimeout(r, 100));
}

const late: number[] = [];
const tasterTeardown: number[] = [];
const baselineTeardown: number[] = [];
const leftovers: string[] = [];
try {
  for (let i = 0; i < deploys; i++) {
    // Alternate which teardown goes first so neither always runs on a busier engine.
    const [a, b] = await Promise.all([
      deployAndMeasure(stackName("t", i)),
      deployAndMeasure(stackName("b", i)),
    ]);
    late.push(a.lateMs, b.lateMs);
    const timeTaster = async () => {
      const started = performance.now();
      const { residue } = await teardownStack(host, a.plan.stack);
      tasterTeardown.push(performance.now() - started);
      leftovers.push(...residue);
    };
    const timeBaseline = async () => {
      const started = performance.now();
      await dockerStackRm(host, b.plan.stack);
      baselineTeardown.push(performance.now() - started);
    };
    if (i % 2 === 0) {
      await timeTaster();
      await timeBaseline();
    } else {
      await timeBaseline();
      await timeTaster();
    }
    // The baseline leaves volumes behind; clean them so the engine does not fill up.
    await teardownStack(host, b.plan.stack);
    process.stderr.write(`deploy pair ${i + 1}/${deploys}: late ${fmt(a.lateMs)}, ${fmt(b.lateMs)}\n`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
  await host.close();
}

const lateMedian = median(late);
console.log(
  `convergence report latency over ${late.length} deploys (after the last task's health_status: healthy event):`,
);
console.log(
  `  median ${fmt(lateMedian)}  min ${fmt(Math.min(...late))}  max ${fmt(Math.max(...late))}  target ≤ 10 ms: ${lateMedian <= 10 ? "met" : "MISSED"}`,
);
const t = median(tasterTeardown);
const base = median(baselineTeardown);
console.log(`teardown over ${tasterTeardown.length} stacks each (median):`);
console.log(`  docker stack rm + wait for containers (baseline): ${fmt(base)}  = 1.00`);
console.log(
  `  taster teardownStack (+ networks, secrets, configs, volumes, residue check): ${fmt(t)}  = ${(t / base).toFixed(2)}× baseline`,
);
console.log(`  residue after taster teardown: ${leftovers.length ? leftovers.join(", ") : "none"}`);
