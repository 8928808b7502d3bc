import type { KnownGood } from "@taster/swarm";

/** What keeping a run as its recipe's known-good came to (told to RunOptions.warm.onKept). */
export type KeepOutcome = { kept: KnownGood; dropped: string[] } | { kept: null; reason: string };

/** A run's part in warm known-goods (docs/sweep.md, "Warm known-good deployments"). */
export interface WarmRunOptions {
  /**
   * Start from the recipe's known-good on the host (`!testme quick`, the sweep's advance): its
   * volumes copied into this run's stack, its app env and secret values, its release as the upgrade
   * base; the upgrade tier then deploys the head over that copy. The known-good itself is never
   * mounted. A recipe without one (or without `warm: true`) is a config error.
   */
  fromKnownGood?: boolean;
  /** Keep this run's data as the recipe's new known-good if the run passes (the sweep of a warm recipe). */
  keep?: boolean;
  onKept?: (outcome: KeepOutcome) => void;
}
