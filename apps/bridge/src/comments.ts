import { errorMessage, type Logger, TasterError } from "@taster/core";
import { type CommentEvent, type Forge, type ForgeKind, parseCommand } from "@taster/forge";
import type { RunQueues } from "@taster/queue";
import { type BridgeConfig, hostFor, recipeOf } from "./config";
import { helpMessage, queuedMessage, runLink, untrustedMessage } from "./messages";
import type { BridgeMetrics } from "./metrics";

const MAX_PENDING_ACKS = 1_000;

/** How one comment was handled, and the HTTP answer the forge gets for it. */
export interface Handled {
  status: number;
  outcome:
    | "ignored"
    | "help"
    | "untrusted"
    | "enqueued"
    | "coalesced"
    | "duplicate"
    | "redis-unavailable"
    | "forge-unavailable";
  reason?: string;
  runId?: string;
  superseded?: string;
}

/**
 * The one path every `!testme` takes, from a webhook or the reconciler:
 * filter → parse → authorize → resolve the head sha → dedupe + enqueue durably → (after answering) acknowledge.
 */
export class CommentHandler {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly config: BridgeConfig,
    private readonly forges: Partial<Record<ForgeKind, Forge>>,
    private readonly queues: RunQueues,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {}

  async handle(event: CommentEvent, deliveryId: string): Promise<Handled> {
    const ignored = this.filter(event);
    if (ignored) return { status: 200, outcome: "ignored", reason: ignored };
    const command = parseCommand(event.body);
    if (!command)
      return { status: 200, outcome: "ignored", reason: "no !testme command on a line of its own" };
    const forge = this.forges[event.forge];
    if (!forge) return { status: 200, outcome: "ignored", reason: `${event.forge} is not configured` };

    try {
      if (command.kind !== "run") {
        const reason = command.kind === "invalid" ? command.reason : undefined;
        await this.replyOnce(
          `help:${event.forge}:${event.repo}:${event.commentId}`,
          forge,
          event,
          helpMessage(reason),
        );
        return { status: 200, outcome: "help" };
      }
      const trust = await forge.isTrusted(event.author, event.repo);
      if (!trust.trusted) {
        this.metrics.untrusted.inc({ forge: event.forge });
        this.log.info(
          { repo: event.repo, pr: event.pr, user: event.author, why: trust.reason },
          "untrusted !testme",
        );
        const text = untrustedMessage(event.author, event.repo, this.config.trust.minPermission);
        await this.replyOnce(`untrusted:${event.forge}:${event.repo}#${event.pr}`, forge, event, text);
        return { status: 200, outcome: "untrusted", reason: trust.reason };
      }
      const pull = await forge.getPullRequest(event.repo, event.pr);
      if (pull.state !== "open")
        return { status: 200, outcome: "ignored", reason: "the pull request is closed" };

      const recipe = recipeOf(event.repo);
      const result = await this.queues.enqueue({
        forge: event.forge,
        repo: event.repo,
        pr: event.pr,
        sha: pull.headSha,
        recipe,
        stages: command.stages,
        host: hostFor(this.config, recipe),
        commentId: event.commentId,
        deliveryId,
        requestedBy: event.author,
        requestedAt: new Date().toISOString(),
      });
      this.count(result.outcome, result.job.host, result.superseded);
      if (result.outcome !== "duplicate")
        this.later(() => this.acknowledge(forge, event, result.runId, result.superseded));
      return {
        status: 202,
        outcome: result.outcome,
        runId: result.runId,
        ...(result.superseded ? { superseded: result.superseded } : {}),
      };
    } catch (error) {
      return this.failure(error, event);
    }
  }

  /**
   * Resolves once every acknowledgement started so far has finished (tests, graceful stop), or
   * after `timeoutMs`: GitHub's pacing can hold a backlog for minutes, and the jobs are safe anyway.
   */
  async idle(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      const timer = new Promise((resolve) => setTimeout(resolve, Math.min(left, 2_147_483_647)).unref());
      await Promise.race([Promise.allSettled([...this.pending]), timer]);
    }
    return true;
  }

  /** Acknowledgements and replies not yet done (GitHub paces writes, so these can queue up). */
  get pendingAcknowledgements(): number {
    return this.pending.size;
  }

  private filter(event: CommentEvent): string | undefined {
    if (event.action !== "created") return `comment ${event.action}, only new comments trigger runs`;
    if (!event.isPullRequest) return "comment on an issue, not a pull request";
    if (event.authorIsBot || event.author.toLowerCase() === this.config.botLogin.toLowerCase())
      return "comment by a bot";
    if (event.issueState !== "open") return "the pull request is closed";
    return undefined;
  }

  private count(outcome: string, host: string, superseded?: string): void {
    if (outcome === "enqueued") this.metrics.enqueued.inc({ host });
    else this.metrics.deduplicated.inc({ reason: outcome });
    if (superseded) this.metrics.superseded.inc();
  }

  /** Replies at most once per key; if posting fails the key is released so a later pass can retry. */
  private async replyOnce(key: string, forge: Forge, event: CommentEvent, text: string): Promise<void> {
    if (!(await this.queues.once(key))) return;
    this.later(async () => {
      try {
        await forge.postComment(event.repo, event.pr, text);
      } catch (error) {
        await this.queues.forget(key).catch(() => {});
        throw error;
      }
    });
  }

  /** 👀 on the comment, the sticky status comment, a pending commit status. The job is already safe in Redis. */
  private async acknowledge(
    forge: Forge,
    event: CommentEvent,
    runId: string,
    superseded?: string,
  ): Promise<void> {
    const run = await this.queues.runs.getRun(runId);
    if (!run) return;
    const position = await this.queues.position(runId).catch(() => undefined);
    const link = runLink(this.config.publicUrl, runId);
    const steps = await Promise.allSettled([
      forge.react(event.repo, event.commentId, "eyes"),
      forge.upsertStickyComment(
        event.repo,
        event.pr,
        queuedMessage({
          publicUrl: this.config.publicUrl,
          runId,
          requestedBy: run.job.requestedBy,
          sha: run.job.sha,
          stages: run.job.stages,
          host: run.job.host,
          position,
          ...(superseded ? { superseded } : {}),
        }),
      ),
      forge.setCommitStatus(event.repo, run.job.sha, {
        state: "pending",
        context: "taster",
        description: position ? `queued, position ${position}` : "queued",
        targetUrl: link,
      }),
    ]);
    const failed = steps.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed.length > 0) throw new Error(failed.map((f) => errorMessage(f.reason)).join("; "));
  }

  private later(work: () => Promise<void>): void {
    // GitHub paces writes (≈1 per 3 s for comments), so under a flood acknowledgements queue up in
    // memory. Past a bound, drop them: the job is safe in Redis and the worker reports on the PR.
    if (this.pending.size >= MAX_PENDING_ACKS) {
      this.metrics.ackFailures.inc();
      return;
    }
    const task = work().catch((error) => {
      this.metrics.ackFailures.inc();
      this.log.warn({ err: errorMessage(error) }, "acknowledgement failed (the job itself is queued)");
    });
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  private failure(error: unknown, event: CommentEvent): Handled {
    const message = errorMessage(error);
    if (error instanceof TasterError && error.kind === "infra" && /redis/i.test(message)) {
      this.log.error(
        { repo: event.repo, pr: event.pr, err: message },
        "Redis unavailable: refusing the delivery",
      );
      return {
        status: 503,
        outcome: "redis-unavailable",
        reason: "the job queue is unavailable; retry later",
      };
    }
    if (error instanceof TasterError && error.kind === "infra") {
      this.log.error({ repo: event.repo, pr: event.pr, err: message }, "forge API unavailable");
      return { status: 502, outcome: "forge-unavailable", reason: `could not reach ${event.forge}` };
    }
    throw error;
  }
}
