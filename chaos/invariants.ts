/**
 * What must hold after every scenario, whatever was done to the system: no job lost, no duplicate
 * final report, nothing left on the engine, no secret value anywhere a person could read it.
 */

import { stackNameFor } from "@taster/core";
import { STICKY_MARKER } from "@taster/forge";
import type { RunRecord } from "@taster/queue";
import { connectHost, findResidue } from "@taster/swarm";
import type { World } from "./world";

const FINAL = ["done", "failed", "cancelled", "superseded"];
/** A verdict on the code: what the run of a PR's latest sha must end as. */
const VERDICT = ["done", "failed"];

export interface Expectation {
  /** Verdicts each PR must get for its latest sha: 1, or 0 when every delivery should be ignored. */
  verdicts: 0 | 1;
  /** PRs #1..#prs of each of the world's repositories are checked (default 1). */
  prs?: number;
}

/** Every broken invariant, in words; empty when all hold. */
export async function brokenInvariants(world: World, expect: Expectation): Promise<string[]> {
  const problems: string[] = [];
  const { stack } = world;
  const runs = await stack.worker.runs.listRuns(500);
  const unfinished = runs.filter((r) => !FINAL.includes(r.state));
  if (unfinished.length) problems.push(`${unfinished.length} runs never finished`);
  for (const repo of world.repos)
    for (let pr = 1; pr <= (expect.prs ?? 1); pr++)
      problems.push(...brokenForPull(world, runs, repo, pr, expect));
  if (expect.verdicts === 0 && stack.sim.state.statuses.length > 0)
    problems.push(`${stack.sim.state.statuses.length} commit statuses posted for ignored deliveries`);

  const stacks = new Set([world.stackName, ...runs.map((r) => stackNameFor(r.job))]);
  for (const name of stacks) {
    const leftovers = await residueOf(stack.lab.dockerHost, name);
    if (leftovers.length) problems.push(`residue of ${name}: ${leftovers.slice(0, 3).join(", ")}`);
  }

  const readable = [
    ...world.repos.flatMap((repo) =>
      [...(stack.sim.state.repos.get(repo)?.pulls.keys() ?? [])].flatMap((pr) =>
        stack.sim.state.commentsOn(repo, pr).map((c) => c.body),
      ),
    ),
    ...stack.sim.state.statuses.map((s) => s.description ?? ""),
    ...world.logLines,
    ...(await runLogs(world, runs)),
  ].join("\n");
  if (stack.secrets.some((secret) => readable.includes(secret)))
    problems.push("a secret value appears in a comment, status or log");
  return problems;
}

function brokenForPull(
  world: World,
  runs: RunRecord[],
  repo: string,
  number: number,
  expect: Expectation,
): string[] {
  const problems: string[] = [];
  const { sim } = world.stack;
  const pr = number;
  const label = world.repos.length > 1 ? `${repo.split("/")[1]}#${pr}` : `#${pr}`;
  const latest = sim.state.repos.get(repo)?.pulls.get(pr)?.headSha ?? "";
  const mine = runs.filter((r) => r.job.repo === repo && r.job.pr === pr);
  const verdicts = mine.filter((r) => r.job.sha === latest && VERDICT.includes(r.state));
  if (verdicts.length !== expect.verdicts)
    problems.push(`PR ${label}: ${verdicts.length} verdicts on its latest sha, expected ${expect.verdicts}`);
  const older = mine.filter((r) => r.job.sha !== latest && VERDICT.includes(r.state));
  if (older.length) problems.push(`PR ${label}: ${older.length} verdicts on an older sha`);

  const stickies = sim.state
    .commentsOn(repo, pr)
    .filter((c) => c.user === sim.state.botLogin && c.body.includes(STICKY_MARKER));
  if (stickies.length !== expect.verdicts)
    problems.push(`PR ${label}: ${stickies.length} sticky comments, expected ${expect.verdicts}`);
  // The sticky comment must end showing the verdict, not a stale "queued"/"running now".
  const stale = stickies.filter((c) => /Taster: (queued|running now)/.test(c.body));
  if (expect.verdicts === 1 && stale.length)
    problems.push(
      `PR ${label}: the sticky comment still says "${/Taster: ([^\n]*)/.exec(stale[0]?.body ?? "")?.[1]}"`,
    );
  const summary = sim.state.statuses.filter((s) => s.sha === latest && s.context === "taster").at(-1);
  if (expect.verdicts === 1 && (!summary || summary.state === "pending"))
    problems.push(`PR ${label}: the summary status is ${summary?.state ?? "missing"}`);
  return problems;
}

async function runLogs(world: World, runs: RunRecord[]): Promise<string[]> {
  const lines: string[] = [];
  for (const run of runs)
    lines.push(...(await world.stack.worker.logs.readLog(run.runId)).map((entry) => entry.line));
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
export async function verdictOf(
  world: World,
  timeoutMs = 240_000,
  pr = 1,
  repo = world.stack.repo,
): Promise<string> {
  const until = Date.now() + timeoutMs;
  const sha = world.stack.sim.state.repos.get(repo)?.pulls.get(pr)?.headSha;
  while (Date.now() < until) {
    const runs = await world.stack.worker.runs.listRuns(500);
    const run = runs.find((r) => r.job.repo === repo && r.job.pr === pr && r.job.sha === sha);
    if (run) return world.stack.waitForVerdict(run.runId, undefined, Math.max(1_000, until - Date.now()));
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no run for ${repo}#${pr} at ${sha?.slice(0, 10)} appeared within ${timeoutMs / 1000}s`);
}
