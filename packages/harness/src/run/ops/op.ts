import type { Plan } from "@taster/swarm";
import { skippedTier, type TierResult } from "../../results";
import type { App, Live } from "../live";
import type { PreparedRun } from "../prepare";

/** A tier's op, performed exactly once by the orchestrator, never by test code. */
export interface Op {
  name: string;
  /** Does the op on the live deployment (for install: the one it just brought up). */
  run: (live: Live) => Promise<void>;
  /** What the stack will be once the op is done (what the assertions see); without: the live plan. */
  plan?: Plan;
  /** What the tier row says was deployed, once the op was tried. */
  deployed?: string;
}

/** The install op also brings the app up: the run goes live (broker and all) from its plan. */
export interface InstallOp extends Op {
  app: App;
}

/** Prepares a tier's op, or says why the tier has none (its row: n/a, skipped, or a failure). */
export type TierOp = (run: PreparedRun, live: Live | null) => Promise<Op | TierResult>;

/** The tiers after install act on its deployment: without one there is nothing to act on. */
export const notDeployed = (): TierResult => skippedTier("not run: nothing was deployed");
