/** Many commands at once against limited capacity. */
import { spawnWorker, stopWorker } from "../child";
import { verdictOf } from "../invariants";
import type { World } from "../world";
import { COMMAND, type Scenario, tally, untilAllFinished } from "./scenario";

const PRS = [1, 2, 3, 4, 5];
/** PRs whose author pushes a newer commit in the middle of the burst. */
const PUSHED = [2, 4];

const burst: Scenario = {
  id: "burst-2-hosts",
  did: "50 !testme over 10 PRs of 2 recipes routed to 2 hosts (capacity 1 each), 4 PRs pushed mid-burst",
  expected:
    "each PR one verdict on its latest sha; ≤ 1 run per host at a time; positions within each host's queue",
  expect: { verdicts: 1, prs: PRS.length },
  world: { externalWorkers: true, secondHost: true },
  async run(world) {
    const head = world.sha;
    const older = await world.rev("refs/pull/1/head~1");
    for (const repo of world.repos)
      for (const pr of PRS) await world.setHead(pr, PUSHED.includes(pr) ? older : head, repo);
    const workers = [
      await spawnWorker(await world.childConfig(0)),
      await spawnWorker(await world.childConfig(1)),
    ];
    const peaks = new Map<string, number>();
    const sampler = setInterval(() => void samplePeaks(world, peaks), 100);
    try {
      let n = 0;
      const testme = (repo: string, pr: number) => {
        const id = world.addComment(COMMAND, pr, repo);
        return world.deliver(id, COMMAND, `burst-${world.tag}-${++n}`, pr, repo);
      };
      const wave = (perPr: number) =>
        Promise.all(
          world.repos.flatMap((repo) =>
            PRS.flatMap((pr) => Array.from({ length: perPr }, () => testme(repo, pr))),
          ),
        );
      const answers = await wave(3);
      for (const repo of world.repos) for (const pr of PUSHED) await world.setHead(pr, head, repo);
      answers.push(...(await wave(2)));
      const states: string[] = [];
      for (const repo of world.repos)
        for (const pr of PRS) states.push(await verdictOf(world, 360_000, pr, repo));
      await untilAllFinished(world, 60_000);
      await samplePeaks(world, peaks);
      const runs = await world.stack.worker.runs.listRuns(500);
      const positions = reportedPositions(world);
      const problems: string[] = [];
      for (const [host, peak] of peaks) if (peak > 1) problems.push(`${peak} runs at once on ${host}`);
      if (answers.some((a) => a.status !== 202))
        problems.push(`answers ${tally(answers.map((a) => a.status))}`);
      const wrong = positions.filter((p) => p < 1 || p > PRS.length);
      if (wrong.length) problems.push(`queue positions outside 1..${PRS.length}: ${wrong.join(", ")}`);
      if (positions.length === 0) problems.push("no queue position was ever reported");
      return {
        observed: `${answers.length} answers ${tally(answers.map((a) => a.status))}; ${runs.length} runs (${tally(runs.map((r) => r.state))}); peak per host ${[...peaks.values()].join("/")}; positions reported ${tally(positions)}; verdicts ${tally(states)}`,
        problems,
      };
    } finally {
      clearInterval(sampler);
      await Promise.all(workers.map((w) => stopWorker(w)));
    }
  },
};

/** The most runs seen running at once, per host queue. */
async function samplePeaks(world: World, peaks: Map<string, number>): Promise<void> {
  const runs = await world.stack.worker.runs.listRuns(500).catch(() => []);
  const running = new Map<string, number>();
  for (const r of runs.filter((run) => run.state === "running"))
    running.set(r.job.host, (running.get(r.job.host) ?? 0) + 1);
  for (const [host, count] of running) peaks.set(host, Math.max(peaks.get(host) ?? 0, count));
  for (const host of world.stack.bridge.config.hosts) if (!peaks.has(host.name)) peaks.set(host.name, 0);
}

/** Every "queued, position N" the PRs were shown, in their sticky comments or commit statuses. */
function reportedPositions(world: World): number[] {
  const texts = [
    ...world.stack.sim.calls.map((c) => (c.body as { body?: string } | undefined)?.body ?? ""),
    ...world.stack.sim.state.statuses.map((s) => s.description ?? ""),
  ];
  return texts
    .map((text) => /queued, position (\d+)/.exec(text)?.[1])
    .filter((p): p is string => p !== undefined)
    .map(Number);
}

export const LOAD_SCENARIOS: Scenario[] = [burst];
