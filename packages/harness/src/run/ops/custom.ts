import { naTier, type TierResult } from "../../results";
import type { Live } from "../live";
import type { PreparedRun } from "../prepare";
import { notDeployed, type Op } from "./op";

/** Custom tests have no op of their own: they run against the deployment as it is. */
export async function customOp(run: PreparedRun, live: Live | null): Promise<Op | TierResult> {
  if (run.customization.assertions.custom.length === 0) {
    return naTier("untested", "no custom tests (custom/*.test.ts)");
  }
  if (!live) return notDeployed();
  return { name: "nothing to do: custom tests run against the live deployment", run: async () => {} };
}
