/** Recipes that misbehave on the swarm. */

import type { Results } from "@taster/harness";
import { DEFAULT_TIMEOUT_SECONDS } from "@taster/swarm";
import { verdictOf } from "../invariants";
import { crashLoop, MISSING_IMAGE, missingImage } from "../variants/compose";
import type { World } from "../world";
import { COMMAND, lineOf, type Scenario } from "./scenario";

const neverConverges: Scenario = {
  id: "never-converges",
  did: "!testme on the lab's `broken` recipe (its healthcheck probes the wrong port)",
  expected: "a failure comment naming the healthcheck, zero residue",
  expect: { verdicts: 1 },
  world: { recipe: { name: "broken", pr: 3 } },
  async run(world) {
    const id = world.addComment(COMMAND);
    const answer = await world.deliver(id, COMMAND, `broken-${world.tag}`);
    const state = await verdictOf(world);
    const sticky = world.stack.stickyComment() ?? "";
    const problems: string[] = [];
    if (state === "done") problems.push("the run was reported green");
    if (!/health/i.test(sticky)) problems.push("the comment does not mention the healthcheck");
    const why = lineOf(sticky, /health/i);
    return { observed: `webhook ${answer.status}; run ${state}; comment says "${why}"`, problems };
  },
};

/**
 * hello-web sets no `coop-cloud.<stack>.timeout` label: its deploy may take the default 300 s to
 * converge. A failure that is recognised must come long before that.
 */
const FAST_ENOUGH_MS = (DEFAULT_TIMEOUT_SECONDS * 1000) / 4;

const crashLooping: Scenario = {
  id: "crash-loop",
  did: "!testme on hello-web whose app command exits 1 at once (swarm restarts it in a loop)",
  expected: `a failure comment saying app keeps crashing, well before the ${DEFAULT_TIMEOUT_SECONDS} s converge timeout; zero residue`,
  expect: { verdicts: 1 },
  world: { variant: crashLoop },
  async run(world) {
    const { state, sticky, deployMs, answer } = await failedDeploy(world, "crash");
    const problems: string[] = [];
    if (state !== "failed") problems.push(`the run ended ${state}, not failed`);
    const why = lineOf(sticky, /crash|exit/i);
    if (!why) problems.push("the comment does not say the service keeps crashing or exiting");
    else if (!/\bapp\b/.test(why)) problems.push(`the comment does not name the service: "${why}"`);
    if (/timeout|timed out|not converged after/i.test(sticky))
      problems.push("the failure is the converge timeout, not the crash loop");
    if (deployMs === undefined) problems.push("the results hold no deploy op row");
    else if (deployMs > FAST_ENOUGH_MS)
      problems.push(`the deploy failed only after ${seconds(deployMs)} (budget ${seconds(FAST_ENOUGH_MS)})`);
    return {
      observed: `webhook ${answer}; run ${state}; deploy op failed after ${seconds(deployMs)}; comment says "${why}"`,
      problems,
    };
  },
};

const imageMissing: Scenario = {
  id: "missing-image",
  did: `!testme on hello-web whose app image is ${MISSING_IMAGE} (on no engine; no registry reachable)`,
  expected: "a fast failure comment naming the image (no such image / cannot pull); zero residue",
  expect: { verdicts: 1 },
  world: { variant: missingImage },
  async run(world) {
    const { state, sticky, deployMs, answer } = await failedDeploy(world, "image");
    const problems: string[] = [];
    if (state !== "failed") problems.push(`the run ended ${state}, not failed`);
    const why = lineOf(sticky, /image/i);
    if (!sticky.includes(MISSING_IMAGE)) problems.push("the comment does not name the image");
    if (!/no such image|pull|not found|does not exist/i.test(sticky))
      problems.push(`the comment does not say the image is missing: "${why}"`);
    if (deployMs === undefined) problems.push("the results hold no deploy op row");
    else if (deployMs > FAST_ENOUGH_MS)
      problems.push(`the deploy failed only after ${seconds(deployMs)} (budget ${seconds(FAST_ENOUGH_MS)})`);
    return {
      observed: `webhook ${answer}; run ${state}; deploy op failed after ${seconds(deployMs)}; comment says "${why}"`,
      problems,
    };
  },
};

/** Comments !testme, waits for the verdict; returns it with the install op's row time. */
async function failedDeploy(world: World, tag: string) {
  const id = world.addComment(COMMAND);
  const answer = (await world.deliver(id, COMMAND, `${tag}-${world.tag}`)).status;
  const state = await verdictOf(world, 200_000);
  const run = (await world.stack.worker.runs.listRuns()).find((r) => r.job.sha === world.sha);
  const install = (run?.result as Results | undefined)?.tiers.install;
  const op = install?.tests.find((row) => row.file === "(taster)" && row.name.startsWith("deploy"));
  return { answer, state, sticky: world.stack.stickyComment() ?? "", deployMs: op?.durationMs };
}

const seconds = (ms: number | undefined) => (ms === undefined ? "?" : `${(ms / 1000).toFixed(1)} s`);

export const RECIPE_SCENARIOS: Scenario[] = [neverConverges, crashLooping, imageMissing];
