import { errorMessage, type Logger, parseStages, type Stage, tolerated } from "@taster/core";
import type { Forge, ForgeKind } from "@taster/forge";
import type { IntakeItem, PushLog, RunJob, RunQueues } from "@taster/queue";
import {
  alreadyCancelled,
  failedStages,
  nothingToCancel,
  reportCancelledQueued,
  retryStages,
} from "./chatops";
import { type BridgeConfig, hostFor, recipeOf } from "./config";
import { olderThan } from "./intake";
import {
  type HeadProblem,
  helpMessage,
  newCommandMessage,
  queuedMessage,
  runLink,
  untrustedMessage,
} from "./messages";
import type { BridgeMetrics } from "./metrics";

/** `!testme quick`: install (the known-good's release over a copy of its data), upgrade to the head, custom. */
const QUICK_STAGES: string[] = parseStages("upgrade,custom");

const MAX_PENDING_ACKS = 1_000;

/** How long an untrusted commenter is not told again (per PR). */
const DAY_SEC = 24 * 3600;

/** A sha this long names one commit for good (a shorter prefix can be matched by a crafted commit). */
const FULL_SHA = 40;

/** What processing made of one accepted command. */
export interface Processed {
  outcome:
    | "ignored"
    | "help"
    | "untrusted"
    | "refused"
    | "enqueued"
    | "coalesced"
    | "duplicate"
    | "cancelled";
  reason?: string;
  runId?: string;
  superseded?: string;
}

/**
 * The asynchronous half of the webhook path, run by the intake worker for every accepted command:
 * still fresh? → PR still open? → authorise (before Taster says anything) → is the head the commit
 * the commenter saw? → dedupe + enqueue the run → (in the background) acknowledge.
 * A forge or Redis error is thrown so the intake queue retries it with backoff; every step is
 * idempotent (seen-once keys, reply-once keys), so a retry never doubles a run or a reply.
 */
export class CommentHandler {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly config: BridgeConfig,
    private readonly forges: Partial<Record<ForgeKind, Forge>>,
    private readonly queues: RunQueues,
    private readonly pushes: PushLog,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {}

  async process(item: IntakeItem): Promise<Processed> {
    const forge = this.forges[item.forge as ForgeKind];
    if (!forge) return { outcome: "ignored", reason: `${item.forge} is not configured` };
    // Checked at intake too; here again because a command can wait (backlog, retries) past the limit.
    if (olderThan(item.commentCreatedAt, this.config.maxCommentAgeSec)) {
      this.metrics.refused.inc({ reason: "too-old" });
      return { outcome: "refused", reason: "comment older than TASTER_MAX_COMMENT_AGE_SEC" };
    }
    const { command } = item;
    if (command.kind === "help" || command.kind === "invalid") {
      // Only a trusted commenter gets an answer: anyone else could make the bot talk at will.
      if (!(await this.authorize(forge, item))) return { outcome: "untrusted" };
      await this.replyOnce(
        `help:${item.forge}:${item.repo}:${item.commentId}`,
        forge,
        item,
        helpMessage(command.kind === "invalid"),
      );
      return { outcome: "help" };
    }
    const pull = await forge.getPullRequest(item.repo, item.pr);
    if (pull.state !== "open") return { outcome: "ignored", reason: "the pull request is closed" };
    if (!(await this.authorize(forge, item))) {
      // Quiet by default: one reply per untrusted commenter per PR per day, whatever they write.
      const text = untrustedMessage(item.author, item.repo, this.config.trust.minPermission);
      const who = item.author.toLowerCase();
      await this.replyOnce(
        `untrusted:${item.forge}:${item.repo}#${item.pr}:${who}`,
        forge,
        item,
        text,
        DAY_SEC,
      );
      return { outcome: "untrusted" };
    }
    if (command.kind === "cancel") return this.cancel(forge, item);
    let stages: string[];
    let sha: string | undefined;
    if (command.kind === "run") ({ stages, sha } = command);
    else if (command.kind === "quick") stages = QUICK_STAGES;
    else {
      const rerun =
        command.kind === "retry"
          ? await retryStages(this.queues, item)
          : await failedStages(this.queues, item, pull.headSha);
      if ("refusal" in rerun) {
        await this.replyOnce(
          `rerun:${item.forge}:${item.repo}:${item.commentId}`,
          forge,
          item,
          rerun.refusal,
        );
        return { outcome: "refused", reason: rerun.refusal };
      }
      stages = rerun.stages;
      // `failed` re-runs a commit that was tested already; `retry` takes the head as it is now.
      if (command.kind === "failed") {
        const recheckOf = rerun.failed?.length ? { runId: rerun.from.runId, tiers: rerun.failed } : undefined;
        return this.enqueueRun(forge, item, pull.headSha, stages, recheckOf);
      }
    }
    const problem = await this.headProblem(item, pull.headSha, sha);
    if (problem) {
      this.metrics.refused.inc({ reason: problem === "other-sha" ? problem : `head-${problem}` });
      this.log.info(
        { repo: item.repo, pr: item.pr, commentId: item.commentId, head: pull.headSha, problem },
        "!testme not run: the head is not the commit the commenter saw",
      );
      const text = newCommandMessage(problem, pull.headSha, stages);
      await this.replyOnce(`head:${item.forge}:${item.repo}:${item.commentId}`, forge, item, text);
      return { outcome: "refused", reason: `head ${problem}` };
    }
    return this.enqueueRun(forge, item, pull.headSha, stages, undefined, command.kind === "quick");
  }

  /**
   * `!testme cancel`: the PR's queued or running run stops (see RunQueues.cancel). A queued one is
   * reported here; a running one by its worker once it is torn down. Nothing live: one reply.
   */
  private async cancel(forge: Forge, item: IntakeItem): Promise<Processed> {
    const cancelled = await this.queues.cancel({ ...item, by: item.author });
    if (cancelled?.stateBefore === "already" && cancelled.by !== item.author) {
      // Someone else stopped it first: say so once; the sticky comment names them already.
      const text = alreadyCancelled(cancelled.by);
      await this.replyOnce(`cancel:${item.forge}:${item.repo}:${item.commentId}`, forge, item, text);
      return { outcome: "refused", reason: "cancelled already" };
    }
    if (!cancelled) {
      await this.replyOnce(
        `cancel:${item.forge}:${item.repo}:${item.commentId}`,
        forge,
        item,
        nothingToCancel,
      );
      return { outcome: "refused", reason: "nothing to cancel" };
    }
    this.log.info({ repo: item.repo, pr: item.pr, runId: cancelled.runId, by: item.author }, "run cancelled");
    await reportCancelledQueued(this.queues, this.config.publicUrl, cancelled.runId, item.author);
    this.later(() => forge.react(item.repo, item.commentId, "eyes"));
    return { outcome: "cancelled", runId: cancelled.runId };
  }

  /** Whether the commenter may trigger runs; an untrusted attempt is counted and logged. */
  private async authorize(forge: Forge, item: IntakeItem): Promise<boolean> {
    const trust = await forge.isTrusted(item.author, item.repo);
    if (trust.trusted) return true;
    this.metrics.untrusted.inc({ forge: item.forge });
    this.log.info(
      { repo: item.repo, pr: item.pr, user: item.author, why: trust.reason },
      "untrusted !testme",
    );
    return false;
  }

  /**
   * Undefined when the head is the commit the commenter approved: named by its full sha, or (plain
   * `!testme`, or a short sha that matches) the last push recorded before the comment was written.
   */
  private async headProblem(item: IntakeItem, head: string, sha?: string): Promise<HeadProblem | undefined> {
    if (sha !== undefined) {
      if (!head.toLowerCase().startsWith(sha)) return "other-sha";
      if (sha.length >= FULL_SHA) return undefined;
    }
    const writtenAt = Date.parse(item.commentCreatedAt);
    const seen = await this.pushes.headAt(item.forge, item.repo, item.pr, head, writtenAt);
    return seen === "seen" ? undefined : seen;
  }

  private async enqueueRun(
    forge: Forge,
    item: IntakeItem,
    sha: string,
    stages: string[],
    recheckOf?: RunJob["recheckOf"],
    quick = false,
  ): Promise<Processed> {
    const recipe = recipeOf(item.repo);
    const result = await this.queues.enqueue({
      forge: item.forge as ForgeKind,
      repo: item.repo,
      pr: item.pr,
      sha,
      recipe,
      stages: stages as Stage[],
      host: hostFor(this.config, recipe),
      commentId: item.commentId,
      deliveryId: item.deliveryId,
      requestedBy: item.author,
      requestedAt: item.receivedAt,
      ...(item.cloneUrl ? { cloneUrl: item.cloneUrl } : {}),
      ...(recheckOf ? { recheckOf } : {}),
      ...(quick ? { quick: true as const } : {}),
    });
    this.count(result.outcome, result.job.host, result.superseded);
    // Always (re)published, even for a duplicate: a retry after a Redis blip must not lose the
    // "queued" report, and the outbox drops it anyway once the run is past that phase.
    await this.reportQueued(item, result.runId, result.job, result.superseded);
    // A re-run from a check run's button has no comment to react to: its check runs say it started.
    if (result.outcome !== "duplicate" && item.checkRunId === undefined)
      this.later(() => forge.react(item.repo, item.commentId, "eyes"));
    return {
      outcome: result.outcome,
      runId: result.runId,
      ...(result.superseded ? { superseded: result.superseded } : {}),
    };
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

  private count(outcome: string, host: string, superseded?: string): void {
    if (outcome === "enqueued") this.metrics.enqueued.inc({ host });
    else this.metrics.deduplicated.inc({ reason: outcome });
    if (superseded) this.metrics.superseded.inc();
  }

  /** Replies at most once per key; if posting fails the key is released so a later pass can retry. */
  private async replyOnce(
    key: string,
    forge: Forge,
    item: IntakeItem,
    text: string,
    ttlSec?: number,
  ): Promise<void> {
    if (!(await this.queues.once(key, ttlSec))) return;
    this.later(async () => {
      try {
        await forge.postComment(item.repo, item.pr, text);
      } catch (error) {
        await this.queues
          .forget(key)
          .catch(tolerated(`forgetting reply key ${key}`, (line) => this.log.debug(line)));
        throw error;
      }
    });
  }

  /**
   * The sticky "queued, position N" comment and a pending commit status, through the ordered report
   * outbox the worker uses too: posted by whichever process delivers reports, and never over the
   * worker's progress or verdict however late the forge lets it through.
   */
  private async reportQueued(
    item: IntakeItem,
    runId: string,
    job: RunJob,
    superseded?: string,
  ): Promise<void> {
    // Without Redis the comment says "queued" without a position.
    const position = await this.queues
      .position(runId)
      .catch(tolerated("reading the queue position", (line) => this.log.debug(line)));
    const body = queuedMessage({
      publicUrl: this.config.publicUrl,
      runId,
      requestedBy: job.requestedBy,
      sha: job.sha,
      stages: job.stages,
      host: job.host,
      position,
      ...(superseded ? { superseded } : {}),
    });
    const status = {
      state: "pending" as const,
      context: "taster",
      description: position ? `queued, position ${position}` : "queued",
      targetUrl: runLink(this.config.publicUrl, runId),
    };
    await this.queues.reports.publish(
      { runId, forge: item.forge, repo: item.repo, pr: item.pr, sha: job.sha },
      { body, statuses: [status] },
      "queued",
    );
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
}
