import type { Tier } from "@taster/core";
import type { Live } from "./live";
import type { PreparedRun } from "./prepare";
import { type PendingAssertions, startAssertions, tierBudgetMs } from "./tier";

/**
 * The custom tier's jest, started as soon as the restore op is done. Custom has no op of its own
 * to hide jest's start-up behind, and it is the last tier before the verdict: its process starts
 * while restore's assertions run, its tests wait (the broker's gate) until the custom tier's
 * (empty) op is done, and its clock starts then, as for any tier. If custom does not run after
 * all (restore failed, the run stopped), the process is stopped without a word in the log.
 */
export class EarlyCustom {
  private pending: PendingAssertions | null = null;

  constructor(private readonly run: PreparedRun) {}

  /** What runTier gets for this tier: custom takes its jest if it was started; restore starts it. */
  forTier(tier: Tier, live: Live): { ahead?: PendingAssertions | null; afterOp?: () => void } {
    if (tier === "custom") return { ahead: this.take() };
    if (tier !== "restore" || !this.wanted()) return {};
    return { afterOp: () => this.start(live) };
  }

  /** Stops a jest started for a custom tier that did not run (idempotent). */
  async abandon(): Promise<void> {
    const pending = this.take();
    if (!pending) return;
    pending.abandon.abort();
    pending.opDone.reject(new Error("the custom tier did not run"));
    await pending.rows.catch(() => undefined);
  }

  /** The custom tier will run its files if the tiers before it pass (customOp's own conditions). */
  private wanted(): boolean {
    const { stages, settings, customization } = this.run;
    return stages.includes("custom") && !settings.na.custom && customization.assertions.custom.length > 0;
  }

  private start(live: Live): void {
    this.pending ??= startAssertions(this.run, live, "custom", {
      budgetMs: tierBudgetMs(this.run),
      announce: false,
    });
  }

  private take(): PendingAssertions | null {
    const pending = this.pending;
    this.pending = null;
    return pending;
  }
}
