/** The forge misbehaving while Taster reports. */
import { verdictOf } from "../invariants";
import { COMMAND, type Scenario } from "./scenario";

const forgeOutage: Scenario = {
  id: "forge-5xx-then-rate-limit",
  did: "forge API answers 502 for 8 s, then 403 rate-limit ×3 and 429 ×3, while the run reports",
  expected: "the verdict arrives, once",
  expect: { verdicts: 1 },
  async run(world) {
    const { sim } = world.stack;
    const id = world.addComment(COMMAND);
    const answer = await world.deliver(id, COMMAND, `outage-${world.tag}`);
    await world.settled();
    // The command is in; now the reporting path meets the outage.
    sim.failNext({ status: 502, forMs: 8_000 });
    setTimeout(() => {
      sim.failNext({ status: 403, count: 3, retryAfterSec: 1 });
      sim.failNext({ status: 429, count: 3, retryAfterSec: 1 });
    }, 8_000).unref();
    const state = await verdictOf(world);
    const failed = sim.calls.filter((c) => c.status >= 500 || c.status === 403 || c.status === 429).length;
    const problems = failed === 0 ? ["no injected failure was ever hit"] : [];
    return { observed: `webhook ${answer.status}; ${failed} forge calls failed; run ${state}`, problems };
  },
};

export const FORGE_SCENARIOS: Scenario[] = [forgeOutage];
