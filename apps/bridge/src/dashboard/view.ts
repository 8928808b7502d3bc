import { type Results, resultsSchema } from "@taster/contracts";
import { redactDeep, TIERS, type Tier } from "@taster/core";
import type { RunRecord, RunState } from "@taster/queue";
import { formatDuration } from "@taster/report";
import { html, type SafeHtml, trusted } from "./html";
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

export interface SparklineShape {
  className: string;
  /** Plot width and height in px; `axis` adds L0/L4 guides and their labels on the left. */
  width: number;
  height: number;
  dot: number;
  axis?: boolean;
  label: string;
}

/** Levels 0–4 over time, oldest left: a line and a dot per level in its colour. Built from numbers only. */
export function levelSparkline(levels: readonly number[], shape: SparklineShape): SafeHtml {
  const pad = shape.dot + 1;
  const step = levels.length > 1 ? (shape.width - 2 * pad) / (levels.length - 1) : 0;
  const x = (i: number) => (pad + i * step).toFixed(1);
  const y = (level: number) => (shape.height - pad - (level / 4) * (shape.height - 2 * pad)).toFixed(1);
  const points = levels.map((level, i) => `${x(i)},${y(level)}`).join(" ");
  const dots = levels
    .map(
      (level, i) =>
        `<circle cx="${x(i)}" cy="${y(level)}" r="${shape.dot}" fill="${LEVEL_COLOURS[level] ?? GREY}"><title>L${level}</title></circle>`,
    )
    .join("");
  const left = shape.axis ? 26 : 0;
  const axis = shape.axis
    ? `<text x="-24" y="${Number(y(4)) + 4}" font-size="11" fill="#656d76">L4</text><text x="-24" y="${Number(y(0)) + 4}" font-size="11" fill="#656d76">L0</text><line x1="0" x2="${shape.width}" y1="${y(0)}" y2="${y(0)}" stroke="#d0d7de"/><line x1="0" x2="${shape.width}" y1="${y(4)}" y2="${y(4)}" stroke="#d0d7de"/>`
    : "";
  return trusted(
    `<svg class="${shape.className}" width="${shape.width + left}" height="${shape.height}" viewBox="${-left} 0 ${shape.width + left} ${shape.height}" role="img" aria-label="${shape.label}">${axis}<polyline points="${points}" fill="none" stroke="#8c959f" stroke-width="1.5"/>${dots}</svg>`,
  );
}
