import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one answered delivery and its handling time since `started` (process.hrtime.bigint()). */
  delivered(forge: string, event: string, outcome: string, started: bigint): void {
    const key = `${forge}\0${event}\0${outcome}`;
    let child = this.children.get(key);
    if (!child) {
      child = {
        counter: this.deliveries.labels({ forge, event, outcome }),
        seconds: this.latency.labels({ forge }),
      };
      // Bounded: the event label comes from a header, possibly of an unsigned request.
      if (this.children.size < 256) this.children.set(key, child);
    }
    child.counter.inc();
    child.seconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }
}
