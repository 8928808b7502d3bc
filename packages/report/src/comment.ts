/**
 * The PR comment: every state of Taster's sticky comment (queued, running, cancelled, errors, the
 * verdict) and the commit statuses that go with it. Moved from the worker and the bridge so the two
 * say things the same way.
 */

import {
  type CommitState,
  type CommitStatus,
  type Results,
  type RunJob,
  SUMMARY_CONTEXT,
  type TierResult,
  tierContext,
} from "@taster/contracts";
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
import { renderCheckRun, renderTierCheck } from "./check-run";
import { COMMENT_LIMIT, fitComment, stickyRoom } from "./fit";
import { lintFindings, notRunLines, OUTCOME_ICON, renderFailures, tierTable } from "./markdown";
import { failuresOf, formatDuration, OUTCOME_WORD, STATUS_WORD } from "./model";
import { pullHistoryLink, recheckLines, rerunLines } from "./rerun";

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
  /** `${publicUrl}/prs/<forge>/<repo>/<pr>`: the PR's earlier attempts (see rerun.ts). */
  historyUrl?: string;
  /** A verdict published before teardown: its footer says the teardown is still running. */
  teardownPending?: boolean;
}

/** The sticky comment's body plus the commit statuses that go with it. */
export interface Report {
  body: string;
  statuses: CommitStatus[];
}

const shortSha = (sha: string) => sha.slice(0, 10);

function header(ctx: ReportContext, icon: string, title: string): string {
  // No marker here: the forge adapter adds it when it writes the sticky comment.
  return `### ${icon} Taster: ${ctx.recipe} @ \`${shortSha(ctx.sha)}\` — ${title}`;
}

const links = (ctx: ReportContext) => `[run page](${ctx.runUrl}) · [full log](${ctx.logUrl})`;

/** What the comment says in every state but the verdict: the header, what happened, where to look. */
function frame(ctx: ReportContext, icon: string, title: string, lines: string[]): string {
  const history = ctx.historyUrl ? ` · [earlier attempts](${ctx.historyUrl})` : "";
  return [
    header(ctx, icon, title),
    "",
    ...lines,
    "",
    `Run \`${ctx.runId}\` · ${links(ctx)}${history}`,
    "",
  ].join("\n");
}

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

/** `${publicUrl}/runs/<id>`: the run page every state of the comment links to. */
export const runLink = (publicUrl: string, runId: string) => `${publicUrl}/runs/${runId}`;

/** What every state of a job's comment names and links, whoever (bridge or worker) renders it. */
export function reportContext(
  publicUrl: string,
  job: Pick<RunJob, "runId" | "forge" | "repo" | "pr" | "sha">,
): ReportContext {
  const runUrl = runLink(publicUrl, job.runId);
  return {
    runId: job.runId,
    repo: job.repo,
    pr: job.pr,
    sha: job.sha,
    recipe: job.repo.split("/")[1] ?? job.repo,
    runUrl,
    logUrl: `${runUrl}/log`,
    historyUrl: pullHistoryLink(publicUrl, job),
  };
}

/** The bridge's first word on a run: queued (or running now), for which commit, where to watch. */
export function queuedMessage(input: {
  publicUrl: string;
  runId: string;
  requestedBy: string;
  sha: string;
  stages: string[];
  host: string;
  position: number | undefined;
  superseded?: string;
}): string {
  const where =
    input.position === undefined
      ? "queued"
      : input.position === 0
        ? "running now"
        : `queued, position ${input.position}`;
  const lines = [
    `### 🧪 Taster: ${where}`,
    "",
    `Requested by @${input.requestedBy} for \`${input.sha.slice(0, 12)}\`: ${input.stages.join(" → ")} on host \`${input.host}\`.`,
    "",
    `[Live log and results](${runLink(input.publicUrl, input.runId)}) · run \`${input.runId}\``,
  ];
  if (input.superseded)
    lines.push("", `This replaces run \`${input.superseded}\`, which was for an older commit.`);
  return lines.join("\n");
}

export function renderRunning(
  ctx: ReportContext,
  progress: { tier?: Tier; step: string; elapsedMs: number; stages: Stage[] },
  redactor: Redactor,
): Report {
  const phase = progress.step === "teardown" ? "tearing down" : `preparing (${progress.step})`;
  const doing = progress.tier ? `running tier **${progress.tier}**` : phase;
  const plain = progress.tier ? `running ${progress.tier}` : phase;
  const body = frame(ctx, "🏃", "running", [
    `${doing} · ${formatDuration(progress.elapsedMs)} elapsed · [live log](${ctx.logUrl})`,
    "",
    `Tiers: ${progress.stages.map((t) => (t === progress.tier ? `**${t}**` : t)).join(" → ")}`,
  ]);
  return redacted(redactor, {
    body,
    statuses: [
      status(ctx, SUMMARY_CONTEXT, "pending", `${plain}, ${formatDuration(progress.elapsedMs)}`),
      ...openTierChecks(ctx, progress),
    ],
  });
}

/** Each tier of the run as a check run in progress: queued, running, or finished (its verdict comes at the end). */
function openTierChecks(ctx: ReportContext, progress: { tier?: Tier; step: string; stages: Stage[] }) {
  const tiers = TIERS.filter((t) => progress.stages.includes(t));
  const current = progress.tier
    ? tiers.indexOf(progress.tier)
    : progress.step === "teardown"
      ? tiers.length
      : -1;
  return tiers.map((tier, i) => ({
    ...status(
      ctx,
      tierContext(tier),
      "pending",
      i < current ? "finished, verdict after teardown" : i === current ? "running" : "queued",
    ),
    checkRunOnly: "open" as const,
  }));
}

/** Completes the tiers' check runs of a run that ends without a verdict; creates none. */
function closeTierChecks(
  ctx: ReportContext,
  title: string,
  summary: string,
  conclusion: "cancelled" | "neutral",
) {
  return TIERS.map((tier) => ({
    ...status(ctx, tierContext(tier), "error", title),
    output: { title, summary, conclusion },
    checkRunOnly: "close" as const,
  }));
}

export function renderCancelled(ctx: ReportContext, why: string, redactor: Redactor): Report {
  return redacted(redactor, {
    body: frame(ctx, "🚫", "cancelled", [why, "", "The run was stopped and its deployment torn down."]),
    statuses: [
      {
        ...status(ctx, SUMMARY_CONTEXT, "error", `cancelled: ${why}`),
        output: { title: "cancelled", summary: why, conclusion: "cancelled" },
      },
      ...closeTierChecks(ctx, "cancelled", why, "cancelled"),
    ],
  });
}

/** Taster itself (not the recipe) failed: say what, how often it was tried, and that it is not the PR's fault. */
export function renderInfraError(
  ctx: ReportContext,
  failure: { what: string; attempts: number },
  redactor: Redactor,
): Report {
  const tries = failure.attempts === 1 ? "once" : `${failure.attempts} times`;
  const body = frame(ctx, "⚠️", "infrastructure error", [
    "Taster could not finish this run because of a problem on the test infrastructure, not in this pull request.",
    "",
    markdownCodeBlock(redactor.redact(failure.what)),
    "",
    `Tried ${tries} with backoff. Comment \`!testme\` again to retry, or ask a Taster admin if it persists.`,
  ]);
  return redacted(redactor, {
    body,
    statuses: [status(ctx, SUMMARY_CONTEXT, "error", `infrastructure error after ${tries}: ${failure.what}`)],
  });
}

function teardownWord(ctx: ReportContext, results: Results): string {
  if (ctx.teardownPending) return "running";
  return results.flags.cleanTeardown ? "clean" : `**residue**: ${markdownText(results.residue.join(", "))}`;
}

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
  const versions = `base ${markdownCode(results.versions.base ?? "none")} → head ${markdownCode(results.versions.head || "?")}`;
  const top = [
    header(ctx, OUTCOME_ICON[results.outcome], `${OUTCOME_WORD[results.outcome]}, level L${results.level}`),
    "",
    `${versions} · ${formatDuration(results.timings.totalMs)} · ${links(ctx)}`,
    ...(results.error ? ["", `**Error:** ${markdownText(results.error)}`] : []),
    "",
    ...tierTable(results),
    ...recheckLines(results),
    ...lintFindings(results),
    ...notRunLines(results),
  ].join("\n");
  const f = results.flags;
  const bottom = [
    "",
    ...rerunLines(results, ctx.historyUrl),
    `deploys ${f.deployCount} (+${f.upgradeRedeploys} upgrade${f.freshDeploys === undefined ? "" : `, ${f.freshDeploys} fresh`}) · teardown ${teardownWord(ctx, results)} · run \`${ctx.runId}\``,
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
  // The marker line the forge adapter adds counts against the limit too.
  const room = stickyRoom(limit);
  let body = "";
  for (const [shown, lines, chars] of budgets) {
    body = redactor.redact(`${top}\n${renderFailures(ctx.logUrl, items, shown, lines, chars)}${bottom}`);
    if (body.length <= room) break;
  }
  body = fitComment(body, room, `\n\n… truncated; see the [full log](${ctx.logUrl}).`);
  return { body, statuses: finalStatuses(ctx, results, redactor) };
}

/**
 * Taster's own settings for this recipe (its taster.yml) are wrong: nothing was judged, no level;
 * the fix is Taster's, not the pull request's, and a retry cannot help.
 */
export function renderConfigError(ctx: ReportContext, results: Results, redactor: Redactor): Report {
  const what = redactor.redact(results.error ?? "invalid settings");
  const body = frame(ctx, "⚠️", "configuration error", [
    "Taster's settings for this recipe are invalid, so no tier was run. This is not about this pull request:",
    "",
    markdownCodeBlock(what),
    "",
    "A Taster maintainer fixes the file (see docs/settings.md); then comment `!testme` again.",
  ]);
  return redacted(redactor, {
    body,
    statuses: [
      status(ctx, SUMMARY_CONTEXT, "error", `configuration error: ${what}`),
      ...closeTierChecks(ctx, "not run: configuration error", what, "neutral"),
    ],
  });
}

function tierState(result: TierResult): CommitState {
  return result.status === "pass" || result.status === "na" ? "success" : "failure";
}

function tierDescription(result: TierResult): string {
  const word =
    result.status === "na" ? `n/a${result.reason ? ` (${result.reason})` : ""}` : STATUS_WORD[result.status];
  const time = result.timings.totalMs ? ` in ${formatDuration(result.timings.totalMs)}` : "";
  return `${word}${time}${result.status === "fail" && result.reason ? `: ${result.reason}` : ""}`;
}

/** One status per tier plus the summary; an infra error marks the summary `error`, never `failure`. */
export function finalStatuses(ctx: ReportContext, results: Results, redactor: Redactor): CommitStatus[] {
  const summaryState: CommitState =
    results.outcome === "pass" ? "success" : results.outcome === "fail" ? "failure" : "error";
  const urls = { runUrl: ctx.runUrl, logUrl: ctx.logUrl };
  const { conclusion: _c, ...summaryOutput } = renderCheckRun(results, urls, redactor);
  return [
    ...TIERS.map((tier) => {
      const description = tierDescription(results.tiers[tier]);
      return {
        ...status(ctx, tierContext(tier), tierState(results.tiers[tier]), description),
        output: renderTierCheck(results, tier, `${tier}: ${description}`, urls, redactor),
      };
    }),
    {
      ...status(
        ctx,
        SUMMARY_CONTEXT,
        summaryState,
        `${OUTCOME_WORD[results.outcome]}, level L${results.level}`,
      ),
      output: summaryOutput,
    },
  ].map((s) => ({ ...s, description: redactor.redact(s.description) }));
}
