/**
 * What must hold after every scenario, whatever was done to the system: no job lost, no duplicate
 * final report, nothing left on the engine, no secret value anywhere a person could read it.
 */

import { STICKY_MARKER } from "../apps/worker/src/report";
import { connectHost, findResidue } from "../packages/swarm/src/index";
import type { World } from "./world";

const FINAL = ["done", "failed", "cancelled", "superseded"];

export interface Expectation {
  /** Runs the scenario must have produced for PR #1's head sha: 1, or 0 when it should be ignored. */
  verdicts: 0 | 1;
}

/** Every broken invariant, in words; empty when all hold. */
export async function brokenInvariants(world: World, expect: Expectation): Promise<string[]> {
  const problems: string[] = [];
  const { stack } = world;
  const runs = await stack.worker.runs.listRuns(200);
  const finished = runs.filter((r) => FINAL.includes(r.state));
  if (runs.length !== expect.verdicts)
    problems.push(`${runs.length} runs exist, expected ${expect.verdicts}`);
  if (finished.length !== runs.length) problems.push(`${runs.length - finished.length} runs never finished`);
  if (expect.verdicts === 1 && !runs.some((r) => r.job.sha === world.sha))
    problems.push(`no run for the PR's latest sha ${world.sha.slice(0, 10)}`);

  const stickies = stack.sim.state
    .commentsOn(stack.repo, 1)
    .filter((c) => c.user === stack.sim.state.botLogin && c.body.includes(STICKY_MARKER));
  if (stickies.length !== expect.verdicts)
    problems.push(`${stickies.length} sticky comments, expected ${expect.verdicts}`);
  const summary = stack.sim.state.statuses
    .filter((s) => s.sha === world.sha && s.context === "taster")
    .at(-1);
  if (expect.verdicts === 1 && (!summary || summary.state === "pending"))
    problems.push(`the summary status is ${summary?.state ?? "missing"}`);
  if (expect.verdicts === 0 && stack.sim.state.statuses.length > 0)
    problems.push(`${stack.sim.state.statuses.length} commit statuses posted for an ignored delivery`);

  const leftovers = await residueOf(stack.lab.dockerHost, world.stackName);
  if (leftovers.length) problems.push(`residue on the engine: ${leftovers.slice(0, 3).join(", ")}`);

  const readable = [
    ...stack.sim.state.commentsOn(stack.repo, 1).map((c) => c.body),
    ...stack.sim.state.statuses.map((s) => s.description ?? ""),
    ...world.logLines,
    ...(await runLogs(
      world,
      runs.map((r) => r.runId),
    )),
  ].join("\n");
  if (stack.secrets.some((secret) => readable.includes(secret)))
    problems.push("a secret value appears in a comment, status or log");
  return problems;
}

async function runLogs(world: World, runIds: string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const runId of runIds)
    lines.push(...(await world.stack.worker.logs.readLog(runId)).map((entry) => entry.line));
  return lines;
}

async function residueOf(dockerHost: string, stackName: string): Promise<string[]> {
  const host = await connectHost(dockerHost);
  try {
    return await findResidue(host, stackName);
  } finally {
    await host.close();
  }
}

/** Polls until the run of the PR's head sha is final and its report reached the forge (bounded). */
export async function verdictOf(world: World, timeoutMs = 240_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const runs = await world.stack.worker.runs.listRuns(200);
    const run = runs.find((r) => r.job.sha === world.sha);
    if (run) return world.stack.waitForVerdict(run.runId, undefined, Math.max(1_000, until - Date.now()));
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no run for ${world.sha.slice(0, 10)} appeared within ${timeoutMs / 1000}s`);
}
