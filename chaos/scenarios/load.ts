/** Many commands at once against limited capacity. */
import { spawnWorker, stopWorker } from "../child";
import { verdictOf } from "../invariants";
import { COMMAND, type Scenario, tally, untilAllFinished } from "./scenario";

const burst: Scenario = {
  id: "burst-capacity-1",
  did: "10 !testme over 4 PRs at once (PR #2 pushed mid-burst) on one host with capacity 1",
  expected: "each PR one verdict on its latest sha, never more than 1 run at a time",
  expect: { verdicts: 1, prs: 4 },
  world: { externalWorkers: true },
  async run(world) {
    const config = await world.childConfig();
    const head = world.sha;
    const older = await world.rev("refs/pull/1/head~1");
    for (const pr of [1, 3, 4]) await world.setHead(pr, head);
    await world.setHead(2, older);
    const worker = await spawnWorker(config);
    let peak = 0;
    const sampler = setInterval(() => {
      void world.stack.worker.runs.listRuns(500).then((runs) => {
        peak = Math.max(peak, runs.filter((r) => r.state === "running").length);
      });
    }, 150);
    try {
      let n = 0;
      const testme = (pr: number) => {
        const id = world.addComment(COMMAND, pr);
        return world.deliver(id, COMMAND, `burst-${world.tag}-${++n}`, pr);
      };
      const answers = await Promise.all([1, 1, 1, 2, 2, 3, 3, 4].map(testme));
      // A push right away: PR #2's older-sha run is at most queued behind PR #1's, so it must
      // never get a verdict (the intake may even see the new head before taking it).
      await world.setHead(2, head);
      answers.push(...(await Promise.all([2, 4].map(testme))));
      const states: string[] = [];
      for (const pr of [1, 2, 3, 4]) states.push(`#${pr} ${await verdictOf(world, 300_000, pr)}`);
      await untilAllFinished(world, 60_000);
      const runs = await world.stack.worker.runs.listRuns(500);
      const problems = peak > 1 ? [`${peak} runs were running at once`] : [];
      if (answers.some((a) => a.status !== 202))
        problems.push(`answers ${tally(answers.map((a) => a.status))}`);
      return {
        observed: `answers ${tally(answers.map((a) => a.status))}; ${runs.length} runs (${tally(runs.map((r) => r.state))}); peak running ${peak}; ${states.join(", ")}`,
        problems,
      };
    } finally {
      clearInterval(sampler);
      await stopWorker(worker);
    }
  },
};

export const LOAD_SCENARIOS: Scenario[] = [burst];
