/**
 * Hands a run's reports to the reporting side (the report outbox in @taster/queue), which records
 * what the PR should show and delivers it with retries. Rendering stays in ./report.
 */
import type { Redactor } from "@taster/core";
import type { Results } from "@taster/harness";
import {
  cancelledByOf,
  type Keys,
  type ReportOutbox,
  type ReportTarget,
  type RunJob,
  type RunLog,
  type RunStore,
} from "@taster/queue";
import { reportContext } from "@taster/report";
import { type Logger, reason } from "./log";
import {
  type Report,
  type ReportContext,
  renderCancelled,
  renderConfigError,
  renderFinal,
  renderInfraError,
  renderRunning,
  SUMMARY_CONTEXT,
} from "./report";

export type Progress = Parameters<typeof renderRunning>[1];

export interface Publisher {
  /** Progress (running phase); resolves once queued for delivery. */
  progress(job: RunJob, progress: Progress): Promise<void>;
  /**
   * The verdict: a recipe's pass/fail, a configuration error, or an infrastructure error after
   * `attempts` tries. `teardownPending`: published before teardown, amended by the next verdict.
   */
  verdict(
    job: RunJob,
    results: Results,
    attempts: number,
    opts?: { teardownPending?: boolean },
  ): Promise<void>;
  /** The run was superseded by `by`: its sha's statuses say why; the sticky comment is the newer run's. */
  cancelled(job: RunJob, by: string | undefined): Promise<void>;
}

export interface PublisherDeps {
  keys: Keys;
  outbox: ReportOutbox;
  runs: RunStore;
  logs: RunLog;
  /** Reads the note one run leaves for its successor ("earlier run … was cancelled"). */
  notes: {
    get(key: string): Promise<string | null>;
    set(key: string, value: string, ex: "EX", ttl: number): Promise<unknown>;
  };
  redactor: Redactor;
  publicUrl: string;
  log: Logger;
}

const NOTE_TTL_SEC = 30 * 24 * 3600;

export function createPublisher(deps: PublisherDeps): Publisher {
  const { keys, outbox, redactor, log } = deps;
  const noteKey = (runId: string) => `${keys.prefix}:report-note:${runId}`;
  const contextFor = (job: RunJob): ReportContext => reportContext(deps.publicUrl, job);
  const targetOf = (job: RunJob): ReportTarget => ({
    runId: job.runId,
    forge: job.forge,
    repo: job.repo,
    pr: job.pr,
    sha: job.sha,
  });

  // One run's reports are queued strictly in the order they were made: progress published from a
  // log event must never land after the verdict that followed it.
  const chains = new Map<string, Promise<void>>();
  function publish(
    job: RunJob,
    report: Report,
    opts: { comment?: boolean; phase?: "running" | "verdict" | "final" } = {},
  ) {
    const previous = chains.get(job.runId) ?? Promise.resolve();
    // allSettled: the previous report's failure was told to its own caller; this one goes out regardless.
    const next = Promise.allSettled([previous]).then(async () => {
      const note = await deps.notes.get(noteKey(job.runId)).catch((error) => {
        log.debug({ runId: job.runId, ...reason(error) }, "report note not read; publishing without it");
        return null;
      });
      const body = note ? `${report.body}\n> ${redactor.redact(note)}\n` : report.body;
      await outbox.publish(targetOf(job), { body, statuses: report.statuses }, opts.phase ?? "running", opts);
    });
    chains.set(job.runId, next);
    const forget = () => {
      if (chains.get(job.runId) === next) chains.delete(job.runId);
    };
    next.then(forget, forget);
    return next;
  }

  function cancelledBy(job: RunJob, person: string): Report {
    void deps.logs
      .appendLog(job.runId, `worker: cancelled by @${person}; torn down`)
      .catch((error) => log.debug({ runId: job.runId, ...reason(error) }, "run log line lost"));
    return renderCancelled(contextFor(job), `Cancelled by @${person}.`, redactor);
  }

  function infraReport(ctx: ReportContext, results: Results, attempts: number): Report {
    const report = renderInfraError(ctx, { what: results.error ?? "unknown error", attempts }, redactor);
    const final = renderFinal(ctx, results, redactor);
    // Keep the per-tier statuses (what did run), with the summary saying it was the infrastructure.
    return {
      body: report.body,
      statuses: [...final.statuses.filter((s) => s.context !== SUMMARY_CONTEXT), ...report.statuses],
    };
  }

  return {
    progress: (job, progress) => publish(job, renderRunning(contextFor(job), progress, redactor)),
    verdict(job, results, attempts, opts = {}) {
      const ctx = { ...contextFor(job), ...(opts.teardownPending ? { teardownPending: true } : {}) };
      const report =
        results.errorKind === "config"
          ? renderConfigError(ctx, results, redactor)
          : results.outcome === "error"
            ? infraReport(ctx, results, attempts)
            : renderFinal(ctx, results, redactor);
      return publish(job, report, { phase: opts.teardownPending ? "verdict" : "final" });
    },
    async cancelled(job, by) {
      // `!testme cancel`: the PR's own sticky comment and statuses say who stopped it.
      const person = cancelledByOf(by);
      if (person) return publish(job, cancelledBy(job, person), { phase: "final" });
      const newer = by
        ? await deps.runs.getRun(by).catch((error) => {
            log.debug({ runId: job.runId, by, ...reason(error) }, "newer run not read; saying less");
            return undefined;
          })
        : undefined;
      const why = newer
        ? `Superseded by a newer commit \`${newer.job.sha.slice(0, 10)}\` (run \`${newer.job.runId}\`).`
        : "Superseded by a newer request for this pull request.";
      await deps.logs
        .appendLog(job.runId, `worker: cancelled — ${why}`)
        .catch((error) => log.debug({ runId: job.runId, ...reason(error) }, "run log line lost"));
      if (by) {
        const note = `Earlier run \`${job.runId}\` on \`${job.sha.slice(0, 10)}\` was cancelled and torn down: superseded by this commit.`;
        await deps.notes.set(noteKey(by), note, "EX", NOTE_TTL_SEC);
      }
      await publish(job, renderCancelled(contextFor(job), why, redactor), { comment: false, phase: "final" });
    },
  };
}
