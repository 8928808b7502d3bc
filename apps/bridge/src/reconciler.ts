import { errorMessage, type Logger } from "@taster/core";
import type { Forge, ForgeKind } from "@taster/forge";
import type { RunQueues } from "@taster/queue";
import type { EnrolledRepo } from "./config";
import type { Intake } from "./intake";
import type { BridgeMetrics } from "./metrics";

export interface ReconcileReport {
  scanned: number;
  /** Commands accepted for processing by this pass (their webhook was lost). */
  recovered: number;
  failures: string[];
}

/**
 * GitHub never redelivers a failed webhook by itself, so a periodic pass reads recent comments on
 * open PRs of enrolled repos and sends every `!testme` through the same intake (same seen-once keys).
 * Comments that already led to a run are skipped cheaply; the others go to the intake, which re-adds
 * their processing job idempotently, so one lost between intake and processing is picked up again.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReconcileReport> | undefined;

  constructor(
    private readonly repos: EnrolledRepo[],
    private readonly forges: Partial<Record<ForgeKind, Forge>>,
    private readonly intake: Intake,
    private readonly queues: RunQueues,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
    private readonly windowSec: number,
  ) {}

  start(intervalSec: number): void {
    if (intervalSec <= 0 || this.repos.length === 0) return;
    this.timer = setInterval(
      () =>
        void this.reconcile().catch((error) =>
          this.log.warn({ reason: errorMessage(error) }, "reconcile pass failed"),
        ),
      intervalSec * 1000,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass; concurrent callers share the pass in progress. */
  reconcile(): Promise<ReconcileReport> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = { scanned: 0, recovered: 0, failures: [] };
    const since = new Date(Date.now() - this.windowSec * 1000);
    for (const { forge: kind, repo } of this.repos) {
      const forge = this.forges[kind];
      if (!forge) continue;
      try {
        for (const comment of await forge.listRecentCommands(repo, since)) {
          report.scanned += 1;
          if (await this.queues.seenComment(kind, repo, comment.id)) continue;
          const handled = await this.intake.accept(
            {
              forge: kind,
              action: "created",
              repo,
              pr: comment.pr,
              isPullRequest: true,
              issueState: "open",
              commentId: comment.id,
              // The forge's creation time, never the time of this pass: a comment too old is refused
              // here as on the webhook path, and the head is judged against when it was written.
              createdAt: comment.createdAt,
              body: comment.body,
              author: comment.author,
              authorIsBot: false,
            },
            `reconcile-${kind}-${comment.id}`,
          );
          this.metrics.reconciled.inc({ outcome: handled.outcome });
          if (handled.outcome === "accepted") {
            report.recovered += 1;
            this.log.warn(
              { repo, pr: comment.pr, commentId: comment.id, intakeId: handled.intakeId },
              "reconciler recovered a missed !testme",
            );
          }
          if (handled.status >= 500) report.failures.push(`${repo}#${comment.pr}: ${handled.reason}`);
        }
      } catch (error) {
        report.failures.push(`${kind}:${repo}: ${errorMessage(error)}`);
        this.log.warn({ repo, err: errorMessage(error) }, "reconciler pass failed for repo");
      }
    }
    return report;
  }
}
