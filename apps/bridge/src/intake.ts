import { errorMessage, type Logger, TasterError } from "@taster/core";
import { type CommentEvent, HEAD_ACTIONS, type PushEvent, parseCommand } from "@taster/forge";
import type { IntakeQueue } from "@taster/queue";
import { type BridgeConfig, isEnrolled } from "./config";
import type { BridgeMetrics } from "./metrics";

/** The HTTP answer for one delivery, decided without any forge API call. */
export interface Accepted {
  status: number;
  outcome: "ignored" | "accepted" | "duplicate" | "recorded" | "redis-unavailable";
  reason?: string;
  /** The intake job that will process the command (derived from forge, repo and comment). */
  intakeId?: string;
}

/** Whether an ISO time is more than `maxAgeSec` ago (or not a time at all: then it cannot be trusted). */
export function olderThan(iso: string | undefined, maxAgeSec: number, now = Date.now()): boolean {
  const at = Date.parse(iso ?? "");
  return Number.isNaN(at) || now - at > maxAgeSec * 1000;
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
  ) {
    if (config.enrolledRepos.length === 0)
      log.warn("TASTER_ENROLLED_REPOS is empty: every !testme will be refused until a repo is enrolled");
  }

  async accept(event: CommentEvent, deliveryId: string): Promise<Accepted> {
    const ignored = this.filter(event);
    if (ignored) return { status: 200, outcome: "ignored", reason: ignored };
    const command = parseCommand(event.body);
    if (!command)
      return { status: 200, outcome: "ignored", reason: "no !testme command on a line of its own" };
    const refused = this.refuse(event);
    if (refused) return { status: 200, outcome: "ignored", reason: refused };
    return this.durably(event, () =>
      this.queue.submit({
        forge: event.forge,
        repo: event.repo,
        pr: event.pr,
        commentId: event.commentId,
        author: event.author,
        deliveryId,
        command,
        receivedAt: new Date().toISOString(),
        commentCreatedAt: event.createdAt,
        ...(event.cloneUrl ? { cloneUrl: event.cloneUrl } : {}),
      }),
    );
  }

  /**
   * A `pull_request` webhook: remembers when the PR's head became this sha (the bridge's clock at
   * receipt), so processing can tell whether a comment was written before or after that push.
   */
  async acceptPush(event: PushEvent, receivedAtMs: number): Promise<Accepted> {
    if (!HEAD_ACTIONS[event.forge].includes(event.action))
      return {
        status: 200,
        outcome: "ignored",
        reason: `pull_request ${event.action} does not move the head`,
      };
    if (!isEnrolled(this.config, event.forge, event.repo))
      return { status: 200, outcome: "ignored", reason: "repository not enrolled" };
    // A redelivered or replayed old push must not make an old head look freshly pushed.
    if (event.updatedAt && olderThan(event.updatedAt, this.config.maxCommentAgeSec, receivedAtMs))
      return { status: 200, outcome: "ignored", reason: "push event older than TASTER_MAX_COMMENT_AGE_SEC" };
    return this.durably(event, async () => {
      await this.queue.pushes.record(event.forge, event.repo, event.pr, event.headSha, receivedAtMs);
      return { outcome: "recorded" as const };
    });
  }

  /** Runs the Redis step; Redis down → 503 (never a silent 2xx), so the forge can redeliver. */
  private async durably(
    event: { repo: string; pr: number },
    step: () => Promise<{ outcome: "accepted" | "duplicate" | "recorded"; intakeId?: string }>,
  ): Promise<Accepted> {
    try {
      const { outcome, intakeId } = await step();
      if (outcome === "duplicate") this.metrics.deduplicated.inc({ reason: "duplicate" });
      return { status: outcome === "recorded" ? 200 : 202, outcome, ...(intakeId ? { intakeId } : {}) };
    } catch (error) {
      return redisUnavailable(error, this.log, event);
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

  /**
   * Commands that are refused without a word on the PR: from a repo that is not enrolled (an
   * org-wide webhook sends every repo's), or written too long ago (a late redelivery, the
   * reconciler, or a captured signed body replayed once its seen-once keys have expired).
   */
  private refuse(event: CommentEvent): string | undefined {
    const reason = !isEnrolled(this.config, event.forge, event.repo)
      ? "not-enrolled"
      : olderThan(event.createdAt, this.config.maxCommentAgeSec)
        ? "too-old"
        : undefined;
    if (!reason) return undefined;
    this.metrics.refused.inc({ reason });
    this.log.info(
      { forge: event.forge, repo: event.repo, pr: event.pr, commentId: event.commentId, reason },
      "!testme refused at intake",
    );
    return reason === "not-enrolled"
      ? "repository not enrolled"
      : "comment older than TASTER_MAX_COMMENT_AGE_SEC";
  }
}

/**
 * A delivery whose Redis step failed because Redis is unavailable: 503 (never a silent 2xx), so
 * the forge redelivers it. Any other error is rethrown.
 */
export function redisUnavailable(
  error: unknown,
  log: Logger,
  where: { repo: string; pr?: number },
): Accepted {
  if (!(error instanceof TasterError && error.kind === "infra")) throw error;
  log.error({ ...where, err: errorMessage(error) }, "Redis unavailable: refusing the delivery");
  return { status: 503, outcome: "redis-unavailable", reason: "the job queue is unavailable; retry later" };
}
