import { type Results, resultsSchema } from "@taster/contracts";
import { redactDeep, TIERS, type Tier } from "@taster/core";
import type { RunRecord, RunState } from "@taster/queue";
import { formatDuration } from "@taster/report";
import { html, type SafeHtml } from "./html";
import type { DashboardOptions } from "./options";

/**
 * Data as read from Redis with the bridge's secrets redacted — before any of it is escaped into a
 * page: escaping first would turn a secret's `&`, `<` or `"` into an entity the redactor no longer finds.
 */
export const scrub = <T>(options: Pick<DashboardOptions, "redactor">, value: T): T =>
  options.redactor ? redactDeep(value, options.redactor) : value;

/** States after which a run's log no longer grows. */
export const FINISHED: ReadonlySet<RunState> = new Set(["done", "failed", "cancelled", "superseded"]);

/** L0 red … L4 bright green (the shields.io palette, so badges look at home in a README). */
export const LEVEL_COLOURS = ["#e05d44", "#fe7d37", "#dfb317", "#97ca00", "#44cc11"] as const;
export const GREY = "#9f9f9f";

const STATE_COLOURS: Record<RunState, string> = {
  claimed: GREY,
  queued: GREY,
  running: "#0969da",
  done: "#1a7f37",
  failed: "#cf222e",
  cancelled: "#6e7781",
  superseded: "#6e7781",
};

/** The run's results.json, or undefined while it has none (or one of a schema this bridge does not know). */
export function resultsOf(run: RunRecord): Results | undefined {
  const parsed = resultsSchema.safeParse(run.result);
  return parsed.success ? parsed.data : undefined;
}

export const shortSha = (sha: string): string => sha.slice(0, 10);

/** "5 min ago" with the exact UTC time on hover. */
export function when(epochMs: number, now = Date.now()): SafeHtml {
  const s = Math.max(0, Math.round((now - epochMs) / 1000));
  const text =
    s < 60
      ? `${s}s ago`
      : s < 3600
        ? `${Math.floor(s / 60)} min ago`
        : s < 86_400
          ? `${Math.floor(s / 3600)} h ago`
          : `${Math.floor(s / 86_400)} d ago`;
  const iso = new Date(epochMs).toISOString();
  return html`<time datetime="${iso}" title="${iso}">${text}</time>`;
}

export const stateChip = (state: RunState): SafeHtml =>
  html`<span class="chip state-${state}" style="background:${STATE_COLOURS[state] ?? GREY}">${state}</span>`;

export const levelChip = (level: number | undefined): SafeHtml =>
  level === undefined
    ? html`<span class="muted">–</span>`
    : html`<span class="chip level" style="background:${LEVEL_COLOURS[level] ?? GREY}">L${level}</span>`;

export const runLink = (runId: string): string => `/runs/${encodeURIComponent(runId)}`;

/** Wall time of a run: finished − started, or so far. */
export function runDuration(run: RunRecord, now = Date.now()): string {
  if (!run.startedAt) return "–";
  return formatDuration((run.finishedAt ?? now) - run.startedAt);
}

/**
 * Which tier a failed run failed at, for the lists: the first tier that failed, else the first that
 * did not run when it should have (an interrupted run). An infrastructure error names no tier.
 */
export function failedTier(results: Results | undefined): Tier | "error" | undefined {
  if (!results || results.outcome === "pass") return undefined;
  if (results.outcome === "error") return "error";
  return (
    TIERS.find((t) => results.tiers[t].status === "fail") ??
    TIERS.find((t) => results.tiers[t].status === "skip")
  );
}

/** The state chip, and for a failed verdict which tier failed ("failed at backup"). */
export function stateCell(run: RunRecord, results: Results | undefined): SafeHtml {
  const where = failedTier(results);
  if (!where) return stateChip(run.state);
  const text = where === "error" ? "infrastructure error" : `at ${where}`;
  return html`${stateChip(run.state)} <span class="failed-tier" data-tier="${where}">${text}</span>`;
}

/** "owner/name#12", or for a run published from `taster run --publish` the source it ran. */
export const pullRequest = (job: RunRecord["job"]): SafeHtml =>
  job.forge === "local"
    ? html`<span class="local" title="${job.repo}">local run of ${job.repo.split("/").filter(Boolean).at(-1) ?? job.repo}</span>`
    : html`${job.repo}#${job.pr}`;
