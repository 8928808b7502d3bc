import type { RunRecord } from "@taster/queue";
import { pullHistoryLink } from "@taster/report";
import { html, type SafeHtml } from "./html";
import { page } from "./layout";
import type { DashboardOptions } from "./options";
import { levelChip, resultsOf, runDuration, runLink, scrub, shortSha, stateCell, when } from "./view";

/** The parts of `/prs/<forge>/<owner>/<repo>/<pr>`, as forges name them (anything else is a 404). */
export const FORGE_NAME = /^(github|gitea)$/;
export const REPO_PART = /^[\w.-]{1,100}$/;
export const PR_NUMBER = /^[1-9]\d{0,9}$/;

/** The dashboard path of a PR's history page (what the sticky comment links to, without the host). */
export const pullPath = (job: { forge: string; repo: string; pr: number }): string =>
  pullHistoryLink("", job);

function row(run: RunRecord): SafeHtml {
  const results = resultsOf(run);
  return html`<tr data-run="${run.runId}">
<td>${when(run.createdAt)}</td>
<td><code>${shortSha(run.job.sha)}</code></td>
<td>${run.job.stages.join(" → ")}</td>
<td>${stateCell(run, results)}${run.cancelledBy ? html` <span class="muted">by @${run.cancelledBy}</span>` : ""}</td>
<td>${levelChip(results?.level)}</td>
<td>${runDuration(run)}</td>
<td>${run.job.forge === "local" ? "" : `@${run.job.requestedBy}`}</td>
<td><a href="${runLink(run.runId)}">${run.runId}</a></td>
</tr>`;
}

/**
 * GET /prs/:forge/:owner/:repo/:pr — every run of one pull request, newest first: what the sticky
 * comment's "earlier attempts" links to. Undefined when Taster has no run of that PR.
 */
export async function renderPullPage(
  options: DashboardOptions,
  ref: { forge: string; repo: string; pr: number },
): Promise<string | undefined> {
  const history = scrub(options, await options.runs.pullRuns(ref.forge, ref.repo, ref.pr));
  if (history.length === 0) return undefined;
  const title = `${ref.repo}#${ref.pr}`;
  const body = html`<h1>${title} <span class="muted">(${ref.forge})</span></h1>
<p class="muted">Every run of this pull request, newest first. Comment <code>!testme failed</code> on the pull request to re-run what failed, <code>!testme retry</code> to run the last tiers again.</p>
<h2>Runs (${history.length})</h2>
<table class="runs">
<thead><tr><th>requested</th><th>sha</th><th>stages</th><th>verdict</th><th>level</th><th>duration</th><th>by</th><th>run</th></tr></thead>
<tbody>${history.map(row)}</tbody></table>`;
  return page(`${title} history`, body);
}
