import {
  markdownCode,
  markdownCodeBlock,
  markdownText,
  type Redactor,
  redactDeep,
  type Stage,
  TIERS,
  type Tier,
} from "@taster/core";
import { type Results, repoLocalNotRun, rowsOf, type TierResult } from "@taster/harness";

/** GitHub's limit for a comment body; Gitea's is larger, so this one bounds both. */
export const COMMENT_LIMIT = 65_536;

/** What every state of the sticky comment names: the run, the commit, where to look. */
export interface ReportContext {
  runId: string;
  repo: string;
  pr: number;
  sha: string;
  recipe: string;
  /** `${publicUrl}/runs/<id>`: the run page. */
  runUrl: string;
  /** `${publicUrl}/runs/<id>/log`: the live/full log. */
  logUrl: string;
}

export type CommitState = "pending" | "success" | "failure" | "error";

export interface CommitStatus {
  /** `taster` (summary) or `taster/<tier>`. */
  context: string;
  state: CommitState;
  /** At most 140 chars (GitHub's limit). */
  description: string;
  targetUrl?: string;
}

/** The sticky comment's body plus the commit statuses that go with it. */
export interface Report {
  body: string;
  statuses: CommitStatus[];
}

export const SUMMARY_CONTEXT = "taster";
export const tierContext = (tier: Tier): string => `taster/${tier}`;

const shortSha = (sha: string) => sha.slice(0, 10);

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

function header(ctx: ReportContext, icon: string, title: string): string {
  // No marker here: the forge adapter adds it when it writes the sticky comment.
  return `### ${icon} Taster: ${ctx.recipe} @ \`${shortSha(ctx.sha)}\` — ${title}`;
}

const links = (ctx: ReportContext) => `[run page](${ctx.runUrl}) · [full log](${ctx.logUrl})`;

function status(ctx: ReportContext, context: string, state: CommitState, description: string): CommitStatus {
  return { context, state, description: description.slice(0, 140), targetUrl: ctx.runUrl };
}

/** Every text that leaves the worker goes through the redactor, bodies and statuses alike. */
function redacted(redactor: Redactor, report: Report): Report {
  return {
    body: redactor.redact(report.body),
    statuses: report.statuses.map((s) => ({ ...s, description: redactor.redact(s.description) })),
  };
}

export function renderRunning(
  ctx: ReportContext,
  progress: { tier?: Tier; step: string; elapsedMs: number; stages: Stage[] },
  redactor: Redactor,
): Report {
  const phase = progress.step === "teardown" ? "tearing down" : `preparing (${progress.step})`;
  const doing = progress.tier ? `running tier **${progress.tier}**` : phase;
  const plain = progress.tier ? `running ${progress.tier}` : phase;
  const body = [
    header(ctx, "🏃", "running"),
    "",
    `${doing} · ${formatDuration(progress.elapsedMs)} elapsed · [live log](${ctx.logUrl})`,
    "",
    `Tiers: ${progress.stages.map((t) => (t === progress.tier ? `**${t}**` : t)).join(" → ")}`,
    "",
    `Run \`${ctx.runId}\` · ${links(ctx)}`,
    "",
  ].join("\n");
  return redacted(redactor, {
    body,
    statuses: [status(ctx, SUMMARY_CONTEXT, "pending", `${plain}, ${formatDuration(progress.elapsedMs)}`)],
  });
}

export function renderCancelled(ctx: ReportContext, why: string, redactor: Redactor): Report {
  return redacted(redactor, {
    body: `${header(ctx, "🚫", "cancelled")}\n\n${why}\n\nThe run was stopped and its deployment torn down. Run \`${ctx.runId}\` · ${links(ctx)}\n`,
    statuses: [status(ctx, SUMMARY_CONTEXT, "error", `cancelled: ${why}`)],
  });
}

/** Taster itself (not the recipe) failed: say what, how often it was tried, and that it is not the PR's fault. */
export function renderInfraError(
  ctx: ReportContext,
  failure: { what: string; attempts: number },
  redactor: Redactor,
): Report {
  const tries = failure.attempts === 1 ? "once" : `${failure.attempts} times`;
  const body = [
    header(ctx, "⚠️", "infrastructure error"),
    "",
    "Taster could not finish this run because of a problem on the test infrastructure, not in this pull request.",
    "",
    markdownCodeBlock(redactor.redact(failure.what)),
    "",
    `Tried ${tries} with backoff. Comment \`!testme\` again to retry, or ask a Taster admin if it persists.`,
    "",
    `Run \`${ctx.runId}\` · ${links(ctx)}`,
    "",
  ].join("\n");
  return redacted(redactor, {
    body,
    statuses: [status(ctx, SUMMARY_CONTEXT, "error", `infrastructure error after ${tries}: ${failure.what}`)],
  });
}

const ICON: Record<TierResult["status"], string> = { pass: "✅", fail: "❌", skip: "⛔", na: "➖" };
const WORD: Record<TierResult["status"], string> = { pass: "pass", fail: "FAIL", skip: "not run", na: "n/a" };

function tierRow(tier: string, result: TierResult): string {
  const tests = result.tests.filter((r) => r.file !== "(taster)");
  const passed = tests.filter((r) => r.status === "pass").length;
  const count = tests.length ? `${passed}/${tests.length}` : "–";
  const time = result.timings.totalMs ? formatDuration(result.timings.totalMs) : "–";
  const label = result.deployed ? `${tier} (${markdownText(result.deployed, 60)})` : tier;
  return `| ${label} | ${ICON[result.status]} ${WORD[result.status]} | ${count} | ${time} | ${markdownText(result.reason ?? "")} |`;
}

/** What the lint row found, errors first: each with its rule's source, so a reader can check it. */
function lintFindings(results: Results): string[] {
  const findings = [...(results.lint?.findings ?? [])].sort((a, b) => a.severity.localeCompare(b.severity));
  if (findings.length === 0) return [];
  return [
    "",
    `#### Lint (${findings.length})`,
    "",
    ...findings.map(
      (f) =>
        `- ${f.severity === "error" ? "❌ **error**" : "⚠️ warning"} · ${markdownCode(f.check)}: ${markdownText(f.message)} _(${markdownText(f.source)})_`,
    ),
  ];
}

interface FailureItem {
  tier: string;
  name: string;
  text: string;
}

function failuresOf(results: Results): FailureItem[] {
  return rowsOf(results).flatMap(([tier, row]) =>
    row.tests
      .filter((r) => r.status !== "pass")
      .map((r) => ({
        tier,
        name: r.file === "(taster)" ? r.name : `${r.file} › ${r.name}`,
        text: r.failure ?? (r.status === "skip" ? "skipped (an unintended skip fails the run)" : ""),
      })),
  );
}

function excerpt(text: string, lines: number, chars: number): string {
  const all = text.split("\n");
  let out = all.slice(0, lines).join("\n");
  if (out.length > chars) out = `${out.slice(0, chars)}…`;
  if (all.length > lines) out += `\n… (${all.length - lines} more lines in the full log)`;
  return out;
}

function renderFailures(
  ctx: ReportContext,
  items: FailureItem[],
  shown: number,
  lines: number,
  chars: number,
) {
  if (items.length === 0) return "";
  const parts = items.slice(0, shown).map((f) => {
    const head = `- **${f.tier}** · ${markdownCode(f.name)}`;
    return lines > 0 && f.text
      ? `${head}\n${indent(markdownCodeBlock(excerpt(f.text, lines, chars)))}`
      : head;
  });
  if (items.length > shown) {
    parts.push(`- … and ${items.length - shown} more; see the [full log](${ctx.logUrl}).`);
  }
  return `\n#### Failures (${items.length})\n\n${parts.join("\n")}\n`;
}

const indent = (text: string) =>
  text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");

const OUTCOME = {
  pass: { icon: "✅", word: "passed" },
  fail: { icon: "❌", word: "failed" },
  error: { icon: "⚠️", word: "errored" },
} as const;

/**
 * The verdict: level, one table row per tier, the failing tests with the first lines of each
 * failure, base → head versions, links. Always under the forge's comment limit: failure excerpts
 * shrink, then go, then the list is cut, before the table ever would.
 */
export function renderFinal(
  ctx: ReportContext,
  raw: Results,
  redactor: Redactor,
  limit = COMMENT_LIMIT,
): Report {
  // Redacted before any of it is escaped into markdown (an escaped secret no longer matches).
  const results = redactDeep(raw, redactor);
  const o = OUTCOME[results.outcome];
  const versions = `base ${markdownCode(results.versions.base ?? "none")} → head ${markdownCode(results.versions.head || "?")}`;
  const top = [
    header(ctx, o.icon, `${o.word}, level L${results.level}`),
    "",
    `${versions} · ${formatDuration(results.timings.totalMs)} · ${links(ctx)}`,
    ...(results.error ? ["", `**Error:** ${markdownText(results.error)}`] : []),
    "",
    "| tier | result | tests | duration | note |",
    "|---|---|---|---|---|",
    ...rowsOf(results).map(([tier, row]) => tierRow(tier, row)),
    ...lintFindings(results),
    ...notRunLines(results),
  ].join("\n");
  const f = results.flags;
  const bottom = [
    "",
    `deploys ${f.deployCount} (+${f.upgradeRedeploys} upgrade${f.freshDeploys === undefined ? "" : `, ${f.freshDeploys} fresh`}) · teardown ${f.cleanTeardown ? "clean" : `**residue**: ${markdownText(results.residue.join(", "))}`} · run \`${ctx.runId}\``,
    "",
  ].join("\n");
  const items = failuresOf(results);
  // From the most detail to the least, until it fits.
  const budgets: [shown: number, lines: number, chars: number][] = [
    [items.length, 12, 2_000],
    [items.length, 6, 600],
    [items.length, 2, 200],
    [items.length, 0, 0],
    [50, 0, 0],
    [0, 0, 0],
  ];
  let body = "";
  for (const [shown, lines, chars] of budgets) {
    body = redactor.redact(`${top}\n${renderFailures(ctx, items, shown, lines, chars)}${bottom}`);
    if (body.length <= limit) break;
  }
  if (body.length > limit)
    body = `${body.slice(0, limit - 80)}\n\n… truncated; see the [full log](${ctx.logUrl}).`;
  return { body, statuses: finalStatuses(ctx, results, redactor) };
}

/** Below the table: repo-local files found and not run (a green table must not hide them), and the fix. */
function notRunLines(results: Results): string[] {
  const notice = repoLocalNotRun(results);
  if (!notice) return [];
  return [
    "",
    `⚠️ ${markdownText(notice.line)}${notice.approve ? `. An admin approves this content, after reviewing it, with ${markdownCode(notice.approve)}` : ""}`,
  ];
}

/**
 * Taster's own settings for this recipe (its taster.yml) are wrong: nothing was judged, no level;
 * the fix is Taster's, not the pull request's, and a retry cannot help.
 */
export function renderConfigError(ctx: ReportContext, results: Results, redactor: Redactor): Report {
  const what = redactor.redact(results.error ?? "invalid settings");
  const body = [
    header(ctx, "⚠️", "configuration error"),
    "",
    "Taster's settings for this recipe are invalid, so no tier was run. This is not about this pull request:",
    "",
    markdownCodeBlock(what),
    "",
    "A Taster maintainer fixes the file (see docs/settings.md); then comment `!testme` again.",
    "",
    `Run \`${ctx.runId}\` · ${links(ctx)}`,
    "",
  ].join("\n");
  return redacted(redactor, {
    body,
    statuses: [status(ctx, SUMMARY_CONTEXT, "error", `configuration error: ${what}`)],
  });
}

function tierState(result: TierResult): CommitState {
  return result.status === "pass" || result.status === "na" ? "success" : "failure";
}

function tierDescription(result: TierResult): string {
  const word =
    result.status === "na" ? `n/a${result.reason ? ` (${result.reason})` : ""}` : WORD[result.status];
  const time = result.timings.totalMs ? ` in ${formatDuration(result.timings.totalMs)}` : "";
  return `${word}${time}${result.status === "fail" && result.reason ? `: ${result.reason}` : ""}`;
}

/** One status per tier plus the summary; an infra error marks the summary `error`, never `failure`. */
export function finalStatuses(ctx: ReportContext, results: Results, redactor: Redactor): CommitStatus[] {
  const o = OUTCOME[results.outcome];
  const summaryState: CommitState =
    results.outcome === "pass" ? "success" : results.outcome === "fail" ? "failure" : "error";
  return [
    ...TIERS.map((tier) =>
      status(ctx, tierContext(tier), tierState(results.tiers[tier]), tierDescription(results.tiers[tier])),
    ),
    status(ctx, SUMMARY_CONTEXT, summaryState, `${o.word}, level L${results.level}`),
  ].map((s) => ({ ...s, description: redactor.redact(s.description) }));
}
