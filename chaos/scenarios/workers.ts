/** Worker processes dying at the worst moments. */
import type { ChildProcess } from "node:child_process";
import { spawnWorker, stopWorker } from "../child";
import { verdictOf } from "../invariants";
import { COMMAND, logSays, type Scenario, untilLogSays } from "./scenario";

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

export const WORKER_SCENARIOS: Scenario[] = [killDuringDeploy];
