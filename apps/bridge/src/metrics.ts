import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/**
 * Event names a label may carry: what GitHub and Gitea/Forgejo send (or could be set up to send).
 * The event header arrives before the signature is checked, so any other value is counted as
 * "other": a label taken from a request would let anyone add a series per request.
 */
const KNOWN_EVENTS: ReadonlySet<string> = new Set([
  // Both forges
  "ping",
  "push",
  "create",
  "delete",
  "fork",
  "issues",
  "issue_comment",
  "pull_request",
  "pull_request_review_comment",
  "release",
  "repository",
  // GitHub
  "check_run",
  "check_suite",
  "installation",
  "installation_repositories",
  "member",
  "membership",
  "organization",
  "pull_request_review",
  "pull_request_review_thread",
  "status",
  "workflow_job",
  "workflow_run",
  // Gitea / Forgejo
  "issue_assign",
  "issue_label",
  "issue_milestone",
  "pull_request_assign",
  "pull_request_comment",
  "pull_request_label",
  "pull_request_milestone",
  "pull_request_review_approved",
  "pull_request_review_rejected",
  "pull_request_sync",
  "wiki",
  // Set by the webhook router when the header is missing.
  "unknown",
]);

/**
 * Outcomes are chosen by Taster's code, never taken from a request; still, only a short word is
 * a label value and at most MAX_OUTCOMES distinct ones are kept, so the series stay bounded
 * whatever a caller passes.
 */
const OUTCOME = /^[a-z][a-z-]{0,39}$/;
const MAX_OUTCOMES = 32;
const FORGES: ReadonlySet<string> = new Set(["github", "gitea"]);

/** The label an event header value is counted under. */
export const eventLabel = (event: string): string => (KNOWN_EVENTS.has(event) ? event : "other");

/** The bridge's Prometheus metrics, on a registry of its own (several bridges may share a process in tests). */
export class BridgeMetrics {
  readonly registry = new Registry();
  readonly deliveries = new Counter({
    name: "taster_webhook_deliveries_total",
    help: "Webhook deliveries by forge, event and outcome",
    labelNames: ["forge", "event", "outcome"] as const,
    registers: [this.registry],
  });
  readonly enqueued = new Counter({
    name: "taster_jobs_enqueued_total",
    help: "New run jobs put on a host queue",
    labelNames: ["host"] as const,
    registers: [this.registry],
  });
  readonly deduplicated = new Counter({
    name: "taster_jobs_deduplicated_total",
    help: "Requests folded into an existing run (same delivery, same comment, or same sha)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly superseded = new Counter({
    name: "taster_jobs_superseded_total",
    help: "Runs made obsolete by a newer sha of the same PR",
    registers: [this.registry],
  });
  readonly untrusted = new Counter({
    name: "taster_untrusted_attempts_total",
    help: "!testme from people who may not trigger runs",
    labelNames: ["forge"] as const,
    registers: [this.registry],
  });
  readonly ackFailures = new Counter({
    name: "taster_acknowledgement_failures_total",
    help: "Acknowledgements (reaction, status comment, commit status) that failed after the job was queued",
    registers: [this.registry],
  });
  readonly intakeFailures = new Counter({
    name: "taster_intake_failures_total",
    help: "Accepted commands whose processing still failed after every retry (the reconciler may recover them)",
    labelNames: ["forge"] as const,
    registers: [this.registry],
  });
  readonly reconciled = new Counter({
    name: "taster_reconciler_commands_total",
    help: "Commands the reconciler found, by outcome",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  /** Commands refused before any run: not-enrolled, too-old, head-moved, head-unknown, other-sha. */
  readonly refused = new Counter({
    name: "taster_commands_refused_total",
    help: "!testme commands that started no run: repo not enrolled, comment too old, or the head is not the commit the commenter saw",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "taster_webhook_handling_seconds",
    help: "Time from receiving a webhook to answering it (the intake: verify, filter, durable hand-off)",
    labelNames: ["forge"] as const,
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  /** Labelled children, resolved once: the webhook path records two metrics per delivery. */
  private readonly children = new Map<
    string,
    {
      counter: ReturnType<BridgeMetrics["deliveries"]["labels"]>;
      seconds: ReturnType<BridgeMetrics["latency"]["labels"]>;
    }
  >();
  private readonly outcomes = new Set<string>();

  constructor() {
    // The event-loop delay monitor samples with a timer: at prom-client's default 10 ms it woke an
    // idle bridge 100 times a second (~1 % of a core doing nothing). 100 ms still sees the stalls
    // that matter to a webhook answer, and an idle bridge sleeps.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
  }

  /**
   * Counts one answered delivery and its handling time since `started` (process.hrtime.bigint()).
   * Every label comes from a fixed set (see KNOWN_EVENTS, outcomeLabel), so unsigned requests
   * cannot add series.
   */
  delivered(forge: string, event: string, outcome: string, started: bigint): void {
    const labels = {
      forge: FORGES.has(forge) ? forge : "other",
      event: eventLabel(event),
      outcome: this.outcomeLabel(outcome),
    };
    const key = `${labels.forge}\0${labels.event}\0${labels.outcome}`;
    let child = this.children.get(key);
    if (!child) {
      child = {
        counter: this.deliveries.labels(labels),
        seconds: this.latency.labels({ forge: labels.forge }),
      };
      this.children.set(key, child);
    }
    child.counter.inc();
    child.seconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  private outcomeLabel(outcome: string): string {
    if (this.outcomes.has(outcome)) return outcome;
    if (!OUTCOME.test(outcome) || this.outcomes.size >= MAX_OUTCOMES) return "other";
    this.outcomes.add(outcome);
    return outcome;
  }
}
