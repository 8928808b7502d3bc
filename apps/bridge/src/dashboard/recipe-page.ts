import type { RunRecord } from "@taster/queue";
import { isInFlight, latestVerdict, recipeRuns } from "./history";
import { html, type SafeHtml } from "./html";
import { page } from "./layout";
import type { DashboardOptions } from "./options";
import {
  levelChip,
  levelSparkline,
  pullRequest,
  resultsOf,
  runDuration,
  runLink,
  scrub,
  shortSha,
  stateCell,
  when,
} from "./view";

/** Level over time, oldest left: one dot per run with a verdict. */
function sparkline(history: RunRecord[]): SafeHtml {
  const levels = history
    .map((run) => resultsOf(run))
    .filter((r) => r !== undefined && r.outcome !== "error")
    .map((r) => r?.level ?? 0)
    .reverse();
  if (levels.length < 2) return html``;
  const label = `level over the last ${levels.length} runs`;
  return levelSparkline(levels, {
    className: "sparkline",
    width: 320,
    height: 60,
    dot: 3.5,
    axis: true,
    label,
  });
}

function row(run: RunRecord): SafeHtml {
  const results = resultsOf(run);
  return html`<tr data-run="${run.runId}">
<td>${when(run.createdAt)}</td>
<td>${pullRequest(run.job)}</td>
<td><code>${shortSha(run.job.sha)}</code></td>
<td>${stateCell(run, results)}</td>
<td>${levelChip(results?.level)}</td>
<td>${runDuration(run)}</td>
<td><a href="${runLink(run.runId)}">${run.runId}</a></td>
</tr>`;
}

/** GET /recipes/:name — undefined when Taster has no run of that recipe in its history window. */
export async function renderRecipePage(
  options: DashboardOptions,
  recipe: string,
): Promise<string | undefined> {
  const history = scrub(options, await recipeRuns(options.runs, recipe, options.historyScan ?? 500));
  if (history.length === 0) return undefined;
  const latest = latestVerdict(history);
  const badgeUrl = `${options.publicUrl}/badges/${encodeURIComponent(recipe)}.svg`;
  const body = html`<h1>${recipe}</h1>
<p>Latest level: ${levelChip(latest?.level)}${history.some(isInFlight) ? html` <span class="muted">(a run is in progress)</span>` : ""}</p>
${sparkline(history)}
<p class="muted">README badge: <code>[![taster](${badgeUrl})](${options.publicUrl}/recipes/${encodeURIComponent(recipe)})</code></p>
<h2>Runs (${history.length})</h2>
<table class="runs">
<thead><tr><th>requested</th><th>pull request</th><th>sha</th><th>state</th><th>level</th><th>duration</th><th>run</th></tr></thead>
<tbody>${history.map(row)}</tbody></table>`;
  return page(`${recipe} history`, body);
}
