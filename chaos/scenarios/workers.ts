/** Worker processes dying at the worst moments. */
import type { ChildProcess } from "node:child_process";
import type { RunRecord } from "@taster/queue";
import { type ChildConfig, spawnWorker, stopWorker } from "../child";
import { verdictOf } from "../invariants";
import type { World } from "../world";
import { COMMAND, logSays, type Scenario, untilLogSays } from "./scenario";

/** More than one tier, so a kill can land in a tier after install (hello-web has a base tag and a backup). */
const TIERED_COMMAND = "!testme upgrade,backup";

const killDuringDeploy: Scenario = {
  id: "worker-kill-9-deploy",
  did: "the worker process is killed with SIGKILL 1.5 s into its deploy; a second worker process starts",
  expected: "the second worker finishes the run, one verdict, zero residue",
  expect: { verdicts: 1 },
  world: { externalWorkers: true },
  async run(world) {
    const config = await world.childConfig();
    const children: ChildProcess[] = [];
    try {
      const doomed = await spawnWorker(config);
      children.push(doomed);
      const id = world.addComment(COMMAND);
      const answer = await world.deliver(id, COMMAND, `kill-${world.tag}`);
      await untilLogSays(world, "install › op: deploy", 120_000);
      await new Promise((r) => setTimeout(r, 1_500));
      await stopWorker(doomed, "SIGKILL");
      children.push(await spawnWorker(config));
      const state = await verdictOf(world);
      const run = (await world.stack.worker.runs.listRuns()).find((r) => r.job.sha === world.sha);
      const deploys = (run?.result as { flags?: { deployCount?: number } } | undefined)?.flags?.deployCount;
      const retaken = await logSays(world, "retaking the run");
      const problems: string[] = [];
      if (state !== "done") problems.push(`the run ended ${state}`);
      if (!retaken) problems.push("the survivor never said it retook the run");
      return {
        observed: `webhook ${answer.status}; killed mid-deploy; survivor ${retaken ? "retook it" : "?"}; run ${state}, deployCount ${deploys}`,
        problems,
      };
    } finally {
      await Promise.all(children.map((c) => stopWorker(c)));
    }
  },
};

const killDuringTier: Scenario = {
  id: "worker-kill-9-tier",
  did: `\`${TIERED_COMMAND}\`; the worker process is killed with SIGKILL 1 s into the upgrade tier's op; a second worker process starts`,
  expected:
    "the second worker removes the orphan, reruns and finishes the run: one verdict (pass), zero residue, deployCount 1 (its own deploy; the dead worker's is not counted)",
  expect: { verdicts: 1 },
  world: { externalWorkers: true },
  run: (world) =>
    withWorkers(world, async (spawn) => {
      const doomed = await spawn();
      const answer = await comment(world, TIERED_COMMAND, "tier");
      await untilLogSays(world, "upgrade › op: ", 180_000);
      await new Promise((r) => setTimeout(r, 1_000));
      await stopWorker(doomed, "SIGKILL");
      const atKill = await runOf(world);
      await spawn();
      const state = await verdictOf(world);
      const run = await runOf(world);
      const flags = flagsOf(run);
      const retaken = await logSays(world, "retaking the run");
      const problems: string[] = [];
      if (atKill?.state !== "running") problems.push(`the kill landed after the run was ${atKill?.state}`);
      if (state !== "done") problems.push(`the run ended ${state}`);
      if (!retaken) problems.push("the survivor never said it retook the run");
      if (flags?.deployCount !== 1) problems.push(`deployCount ${flags?.deployCount}, expected 1`);
      if (tierStatus(run, "upgrade") !== "pass" || tierStatus(run, "backup") !== "pass")
        problems.push(
          `upgrade ${tierStatus(run, "upgrade")}, backup ${tierStatus(run, "backup")} (expected both pass)`,
        );
      return {
        observed: `webhook ${answer.status}; killed in the upgrade op; survivor ${retaken ? "retook it" : "?"}; run ${state} L${levelOf(run)}, deployCount ${flags?.deployCount} (+${flags?.upgradeRedeploys} upgrade redeploy)`,
        problems,
      };
    }),
};

const killDuringTeardown: Scenario = {
  id: "worker-kill-9-teardown",
  did: "the worker process is killed with SIGKILL as soon as the run log says teardown started; a second worker process starts",
  expected:
    "the survivor removes what was left and reruns: exactly one verdict, the real one (pass, not an infrastructure error), zero residue",
  expect: { verdicts: 1 },
  world: { externalWorkers: true },
  run: (world) =>
    withWorkers(world, async (spawn) => {
      const doomed = await spawn();
      const answer = await comment(world, COMMAND, "teardown");
      // Teardown of one stack takes seconds; poll the log fast so the kill lands inside it.
      await untilLog(world, "teardown: removing stack", 180_000, 25);
      await stopWorker(doomed, "SIGKILL");
      const atKill = await runOf(world);
      const lines = await logLines(world);
      const tornDownBeforeKill = lines.some((l) => l.includes("teardown: zero residue"));
      await spawn();
      const state = await verdictOf(world);
      const run = await runOf(world);
      const sticky = finalSticky(world);
      const problems: string[] = [];
      if (atKill?.state !== "running" || atKill.result)
        problems.push(`the kill landed after the result was stored (run ${atKill?.state})`);
      if (state !== "done") problems.push(`the run ended ${state}, not with its real verdict (done)`);
      if (!sticky.includes("passed")) problems.push("the sticky comment does not say the run passed");
      if (sticky.includes("infrastructure error"))
        problems.push("the sticky comment says infrastructure error");
      return {
        observed: `webhook ${answer.status}; killed in teardown (${tornDownBeforeKill ? "after" : "before"} it finished); run ${state} L${levelOf(run)}, deployCount ${flagsOf(run)?.deployCount}, comment ${sticky.includes("passed") ? "passed" : "?"}`,
        problems,
      };
    }),
};

/** Kills per crash-loop round; BullMQ fails a job that stalls more than its maxStalledCount (2). */
const CRASHES = 3;

const crashLoop: Scenario = {
  id: "worker-crash-loop",
  did: `\`${TIERED_COMMAND}\`; ${CRASHES} worker processes in a row are killed with SIGKILL at a random point of the run (0–8 s after its fetch and manifest); then a fourth starts`,
  expected:
    "bounded: after the third lost worker the fourth ends the run — one verdict, an infrastructure error saying the run kept losing its worker (the run's own verdict if it finished before a kill); zero residue",
  expect: { verdicts: 1 },
  world: { externalWorkers: true },
  run: (world) =>
    withWorkers(world, async (spawn) => {
      const answer = await comment(world, TIERED_COMMAND, "loop");
      const delays: string[] = [];
      let landed = 0;
      for (let crash = 1; crash <= CRASHES; crash++) {
        const doomed = await spawn();
        // Each attempt (the first, and every retake) logs its manifest once, right after its fetch.
        await untilLogCount(world, "manifest: repo-local code", crash, 180_000);
        const delay = Math.round(Math.random() * 8_000);
        delays.push(`${(delay / 1000).toFixed(1)}s`);
        await new Promise((r) => setTimeout(r, delay));
        await stopWorker(doomed, "SIGKILL");
        if ((await runOf(world))?.result) break; // it finished before the kill: nothing left to lose
        landed++;
      }
      await spawn();
      const state = await verdictOf(world);
      const run = await runOf(world);
      const sticky = finalSticky(world);
      const lostWorker = /kept losing its worker/.test(sticky);
      const problems: string[] = [];
      // BullMQ retakes a job twice (maxStalledCount 2): a third lost worker must end the run, saying why.
      if (landed === CRASHES && !(state === "failed" && lostWorker))
        problems.push(
          `${landed} kills mid-run, yet the run ended ${state} without saying it kept losing its worker`,
        );
      if (landed < CRASHES && state !== "done") problems.push(`the run ended ${state}`);
      return {
        observed: `webhook ${answer.status}; ${landed} kills mid-run (after ${delays.join(", ")}); run ${state} (${run?.result ? (run.result as { outcome?: string }).outcome : "no result"})${lostWorker ? ", comment: kept losing its worker" : ""}`,
        problems,
      };
    }),
};

export const WORKER_SCENARIOS: Scenario[] = [killDuringDeploy, killDuringTier, killDuringTeardown, crashLoop];

/** Runs `body` with a way to start worker processes on the world's queue; all are stopped after. */
async function withWorkers<T>(
  world: World,
  body: (spawn: () => Promise<ChildProcess>) => Promise<T>,
): Promise<T> {
  const config: ChildConfig = await world.childConfig();
  const children: ChildProcess[] = [];
  const spawn = async () => {
    const child = await spawnWorker(config);
    children.push(child);
    return child;
  };
  try {
    return await body(spawn);
  } finally {
    await Promise.all(children.map((c) => stopWorker(c)));
  }
}

async function comment(world: World, command: string, what: string): Promise<{ status: number }> {
  const id = world.addComment(command);
  return world.deliver(id, command, `${what}-${world.tag}`);
}

async function runOf(world: World): Promise<RunRecord | undefined> {
  return (await world.stack.worker.runs.listRuns()).find((r) => r.job.sha === world.sha);
}

interface ResultView {
  level?: number;
  flags?: { deployCount?: number; upgradeRedeploys?: number };
  tiers?: Record<string, { status?: string }>;
}
const resultOf = (run: RunRecord | undefined) => run?.result as ResultView | undefined;
const flagsOf = (run: RunRecord | undefined) => resultOf(run)?.flags;
const levelOf = (run: RunRecord | undefined) => resultOf(run)?.level;
const tierStatus = (run: RunRecord | undefined, tier: string) => resultOf(run)?.tiers?.[tier]?.status;

function finalSticky(world: World): string {
  const { sim, repo } = world.stack;
  return (
    sim.state
      .commentsOn(repo, 1)
      .filter((c) => c.user === sim.state.botLogin)
      .at(-1)?.body ?? ""
  );
}

async function logLines(world: World): Promise<string[]> {
  const lines: string[] = [];
  for (const run of await world.stack.worker.runs.listRuns())
    lines.push(...(await world.stack.worker.logs.readLog(run.runId)).map((l) => l.line));
  return lines;
}

async function untilLog(world: World, text: string, timeoutMs: number, pollMs: number): Promise<void> {
  await untilLogCount(world, text, 1, timeoutMs, pollMs);
}

/** Waits until `text` appears on at least `count` lines of the run log (bounded). */
async function untilLogCount(
  world: World,
  text: string,
  count: number,
  timeoutMs: number,
  pollMs = 200,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await logLines(world)).filter((l) => l.includes(text)).length < count) {
    if (Date.now() > until)
      throw new Error(`the run log never said "${text}" ${count}× within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
