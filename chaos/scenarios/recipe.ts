/** Recipes that misbehave on the swarm. */
import { verdictOf } from "../invariants";
import { COMMAND, type Scenario } from "./scenario";

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
    const why =
      sticky
        .split("\n")
        .find((l) => /health/i.test(l))
        ?.trim()
        .slice(0, 120) ?? "";
    return { observed: `webhook ${answer.status}; run ${state}; comment says "${why}"`, problems };
  },
};

export const RECIPE_SCENARIOS: Scenario[] = [neverConverges];
