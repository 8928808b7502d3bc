/**
 * GitHub's "Re-run" button on one of Taster's check runs: a `check_run` `rerequested` webhook.
 * The check run's `external_id` is the run it reported (the outbox sets it), so the run's PR and
 * stages are read back and the same stages are asked for again on the check run's commit, as if
 * the person who pressed the button had commented `!testme <stages> <sha>`: the same intake queue,
 * the same trust rule (the `sender` must be trusted), the same head check (a PR that moved on gets
 * the usual "comment again for the new commit" reply instead of a run of the old commit).
 */
import { createHash } from "node:crypto";
import type { Logger } from "@taster/core";
import type { CheckRunEvent } from "@taster/forge";
import type { IntakeQueue, RunStore } from "@taster/queue";
import { type BridgeConfig, isEnrolled } from "./config";
import { type Accepted, redisUnavailable } from "./intake";

export class CheckRunRerun {
  constructor(
    private readonly config: BridgeConfig,
    private readonly queue: IntakeQueue,
    private readonly runs: RunStore,
    private readonly log: Logger,
  ) {}

  async accept(event: CheckRunEvent, deliveryId: string): Promise<Accepted> {
    const ignored = (reason: string): Accepted => ({ status: 200, outcome: "ignored", reason });
    if (event.action !== "rerequested") return ignored(`check_run ${event.action} is not a re-run request`);
    if (event.senderIsBot || event.sender.toLowerCase() === this.config.botLogin.toLowerCase())
      return ignored("re-run requested by a bot");
    if (!isEnrolled(this.config, "github", event.repo)) return ignored("repository not enrolled");
    try {
      const run = event.externalId ? await this.runs.getRun(event.externalId) : undefined;
      const job = run?.job;
      // Only a run of this repository and commit: a forged or foreign external_id re-runs nothing.
      if (job?.forge !== "github" || job.repo !== event.repo || job.sha !== event.headSha)
        return ignored("not a check run of a Taster run on this commit");
      const now = new Date().toISOString();
      const { outcome, intakeId } = await this.queue.submit({
        forge: "github",
        repo: event.repo,
        pr: job.pr,
        commentId: pressId(deliveryId),
        checkRunId: event.checkRunId,
        author: event.sender,
        deliveryId,
        command: { kind: "run", stages: job.stages, sha: event.headSha },
        receivedAt: now,
        commentCreatedAt: now,
      });
      this.log.info(
        { repo: event.repo, pr: job.pr, runId: job.runId, by: event.sender, outcome },
        "check run re-run requested",
      );
      return { status: 202, outcome, intakeId };
    } catch (error) {
      return redisUnavailable(error, this.log, { repo: event.repo });
    }
  }
}

/**
 * The intake's id for one press of the button. Not the check run's id: a stranger's press (refused)
 * must not use up a maintainer's press of the same button. Above 2^52, far beyond GitHub's comment
 * ids, so it never meets one; the same delivery redelivered gives the same id (and is deduplicated by its delivery id too).
 */
function pressId(deliveryId: string): number {
  return 2 ** 52 + Number.parseInt(createHash("sha256").update(deliveryId).digest("hex").slice(0, 12), 16);
}
