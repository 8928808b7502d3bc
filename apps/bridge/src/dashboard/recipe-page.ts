import type { RunRecord } from "@taster/queue";
import { isInFlight, latestVerdict, recipeRuns } from "./history";
import { html, type SafeHtml, trusted } from "./html";
import { page } from "./layout";
import type { DashboardOptions } from "./options";
import {
  LEVEL_COLOURS,
  levelChip,
  pullRequest,
  resultsOf,
  runDuration,
  runLink,
  scrub,
  shortSha,
  stateCell,
  when,
} from "./view";

/** Level over time, oldest left: one dot per run with a verdict, on a 0–4 scale. Built from numbers only. */
function sparkline(history: RunRecord[]): SafeHtml {
  const levels = history
    .map((run) => resultsOf(run))
    .filter((r) => r !== undefined && r.outcome !== "error")
    .map((r) => r?.level ?? 0)
    .reverse();
  if (levels.length < 2) return html``;
  const w = 320;
  const h = 60;
  const step = w / (levels.length - 1);
  const y = (level: number) => h - 6 - (level / 4) * (h - 12);
  const points = levels.map((level, i) => `${(i * step).toFixed(1)},${y(level).toFixed(1)}`);
  const dots = levels
    .map((level, i) => {
      const colour = LEVEL_COLOURS[level] ?? "#999";
      return `<circle cx="${(i * step).toFixed(1)}" cy="${y(level).toFixed(1)}" r="3.5" fill="${colour}"><title>L${level}</title></circle>`;
    })
    .join("");
  return trusted(`<svg class="sparkline" width="${w + 30}" height="${h}" viewBox="-26 0 ${w + 30} ${h}" role="img" aria-label="level over the last ${levels.length} runs">
<text x="-24" y="${y(4) + 4}" font-size="11" fill="#656d76">L4</text><text x="-24" y="${y(0) + 4}" font-size="11" fill="#656d76">L0</text>
<line x1="0" x2="${w}" y1="${y(0)}" y2="${y(0)}" stroke="#d0d7de"/><line x1="0" x2="${w}" y1="${y(4)}" y2="${y(4)}" stroke="#d0d7de"/>
<polyline points="${points.join(" ")}" fill="none" stroke="#8c959f" stroke-width="1.5"/>${dots}</svg>`);
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
