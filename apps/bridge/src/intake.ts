import { errorMessage, type Logger, TasterError } from "@taster/core";
import { type CommentEvent, parseCommand } from "@taster/forge";
import type { IntakeQueue } from "@taster/queue";
import type { BridgeConfig } from "./config";
import type { BridgeMetrics } from "./metrics";

/** The HTTP answer for one delivery, decided without any forge API call. */
export interface Accepted {
  status: number;
  outcome: "ignored" | "accepted" | "duplicate" | "redis-unavailable";
  reason?: string;
  /** The intake job that will process the command (derived from forge, repo and comment). */
  intakeId?: string;
}

/**
 * The synchronous half of the webhook path (and the reconciler's entry): the cheap filters that
 * need only the payload, then a durable hand-off to the intake queue. Answers in milliseconds;
 * everything that needs the forge API happens in CommentHandler.process, retried until it works.
 */
export class Intake {
  constructor(
    private readonly config: BridgeConfig,
    private readonly queue: IntakeQueue,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {}

  async accept(event: CommentEvent, deliveryId: string): Promise<Accepted> {
    const ignored = this.filter(event);
    if (ignored) return { status: 200, outcome: "ignored", reason: ignored };
    const command = parseCommand(event.body);
    if (!command)
      return { status: 200, outcome: "ignored", reason: "no !testme command on a line of its own" };
    try {
      const { outcome, intakeId } = await this.queue.submit({
        forge: event.forge,
        repo: event.repo,
        pr: event.pr,
        commentId: event.commentId,
        author: event.author,
        deliveryId,
        command,
        receivedAt: new Date().toISOString(),
      });
      if (outcome === "duplicate") this.metrics.deduplicated.inc({ reason: "duplicate" });
      return { status: 202, outcome, intakeId };
    } catch (error) {
      if (!(error instanceof TasterError && error.kind === "infra")) throw error;
      this.log.error(
        { repo: event.repo, pr: event.pr, err: errorMessage(error) },
        "Redis unavailable: refusing the delivery",
      );
      return {
        status: 503,
        outcome: "redis-unavailable",
        reason: "the job queue is unavailable; retry later",
      };
    }
  }

  private filter(event: CommentEvent): string | undefined {
    if (event.action !== "created") return `comment ${event.action}, only new comments trigger runs`;
    if (!event.isPullRequest) return "comment on an issue, not a pull request";
    if (event.authorIsBot || event.author.toLowerCase() === this.config.botLogin.toLowerCase())
      return "comment by a bot";
    if (event.issueState !== "open") return "the pull request is closed";
    return undefined;
  }
}
