import type { Manifest, Results } from "@taster/contracts";
import type { LogEntry, RunRecord } from "@taster/queue";
import { failuresOf, formatDuration, OUTCOME_WORD, tierTableHtml } from "@taster/report";
import { html, type SafeHtml } from "./html";
import { page } from "./layout";
import { LIVE_LOG_SCRIPT } from "./live-log";
import type { DashboardOptions } from "./options";
import { pullPath } from "./pr-page";
import {
  FINISHED,
  levelChip,
  resultsOf,
  runDuration,
  runLink,
  scrub,
  shortSha,
  stateChip,
  when,
} from "./view";

/** Why a run has no results yet (or never will). */
const NO_VERDICT: Partial<Record<RunRecord["state"], string>> = {
  claimed: "Waiting in the queue.",
  queued: "Waiting in the queue.",
  running: "Running; the verdict appears here when it ends.",
  superseded: "Superseded by a newer commit of this pull request before it ran; it will not get a verdict.",
  cancelled: "Cancelled before it finished; it will not get a verdict.",
};

/** Lines rendered into the page itself; the rest is one click away in log.txt. */
const PAGE_LOG_LINES = 5_000;
const FAILURE_EXCERPT_LINES = 12;

function lintFindings(results: Results): SafeHtml {
  const findings = results.lint?.findings ?? [];
  if (findings.length === 0) return html``;
  return html`<h2>Lint (${findings.length})</h2>
<ul class="lint">${findings.map(
    (f) =>
      html`<li class="${f.severity === "error" ? "fail" : "warn"}"><strong>${f.severity}</strong> · <code>${f.check}</code>: ${f.message} <span class="muted">(${f.source})</span></li>`,
  )}</ul>`;
}

function excerpt(text: string): string {
  const lines = text.split("\n");
  const head = lines.slice(0, FAILURE_EXCERPT_LINES).join("\n");
  return lines.length > FAILURE_EXCERPT_LINES
    ? `${head}\n… (${lines.length - FAILURE_EXCERPT_LINES} more lines in the full log)`
    : head;
}

function failures(results: Results): SafeHtml {
  const items = failuresOf(results);
  if (items.length === 0) return html``;
  return html`<h2>Failures (${items.length})</h2>
${items.map(
  (f) => html`<h3 class="failure"><span class="fail">${f.tier}</span> · <code>${f.name}</code></h3>
<pre>${excerpt(f.text)}</pre>`,
)}`;
}

function manifestSection(manifest: Manifest | null): SafeHtml {
  if (!manifest)
    return html`<h2>Manifest</h2><p class="muted">The run stopped before its customization was resolved.</p>`;
  const local = manifest.repoLocal;
  return html`<h2>Manifest</h2>
<dl class="meta manifest">
<dt>settings</dt><dd>${manifest.settingsFile ?? "none (defaults)"}</dd>
<dt>upgrade base</dt><dd>${manifest.upgradeBase.base ?? "none"} — ${manifest.upgradeBase.reason}</dd>
${manifest.serving ? html`<dt>serving</dt><dd>${manifest.serving}</dd>` : ""}
<dt>backup-capable</dt><dd>${manifest.backupCapable ? "yes" : "no"}</dd>
<dt>repo-local code</dt><dd>${local.allowed ? "allowed" : "not allowed"} — ${local.why}${local.treeHash ? html` (tree <code>${local.treeHash}</code>)` : ""}</dd>
</dl>
${
  manifest.files.length
    ? html`<table class="manifest-files">
<thead><tr><th>kind</th><th>tier</th><th>source</th><th>path</th><th>runs?</th><th>why</th></tr></thead>
<tbody>${manifest.files.map(
        (
          f,
        ) => html`<tr><td>${f.kind}</td><td>${f.tier}</td><td>${f.source}</td><td><code>${f.path}</code></td>
<td>${f.allowed ? "yes" : html`<span class="fail">no</span>`}</td><td>${f.why}</td></tr>`,
      )}</tbody></table>`
    : ""
}`;
}

function verdict(run: RunRecord, results: Results): SafeHtml {
  const f = results.flags;
  return html`<h2>Verdict: ${OUTCOME_WORD[results.outcome]}, level ${levelChip(results.level)}</h2>
${results.error ? html`<p class="fail"><strong>Error:</strong> ${results.error}</p>` : ""}
<p>base <code>${results.versions.base ?? "none"}</code> → head <code>${results.versions.head || "?"}</code>
<span class="muted">(${results.versions.baseReason})</span></p>
${tierTableHtml(results)}
<p class="muted">deploys ${f.deployCount} (+${f.upgradeRedeploys} upgrade${f.freshDeploys === undefined ? "" : `, ${f.freshDeploys} fresh`}) · teardown
${f.cleanTeardown ? "clean" : html`<span class="fail">residue: ${results.residue.join(", ")}</span>`}
· total ${formatDuration(results.timings.totalMs)}${run.state === "cancelled" ? " · cancelled before the end" : ""}</p>
${lintFindings(results)}
${failures(results)}
${manifestSection(results.manifest)}`;
}

function facts(run: RunRecord, position: number | undefined): SafeHtml {
  const job = run.job;
  const waiting = run.state === "queued" || run.state === "claimed";
  return html`<dl class="meta run-facts">
${
  job.forge === "local"
    ? html`<dt>source</dt><dd>a local run (<code>taster run --publish</code>) of <code>${job.repo}</code></dd>`
    : html`<dt>pull request</dt><dd>${job.repo}#${job.pr} (${job.forge}) · <a href="${pullPath(job)}">all its runs</a></dd>`
}
<dt>commit</dt><dd><code>${job.sha}</code></dd>
<dt>tiers</dt><dd>${job.stages.join(" → ")}</dd>
<dt>host</dt><dd>${job.host}${waiting && position && position > 0 ? ` — position ${position} in the queue` : ""}</dd>
<dt>requested</dt><dd>by ${job.requestedBy}, ${when(run.createdAt)}</dd>
<dt>duration</dt><dd>${runDuration(run)}</dd>
${run.supersededBy ? html`<dt>superseded by</dt><dd><a href="${runLink(run.supersededBy)}">${run.supersededBy}</a></dd>` : ""}
</dl>`;
}

function liveLog(run: RunRecord, lines: LogEntry[], truncated: boolean): SafeHtml {
  const live = !FINISHED.has(run.state);
  const after = lines.at(-1)?.id ?? "";
  const base = runLink(run.runId);
  return html`<h2>Log</h2>
<p class="muted"><span id="log-status">${live ? "live — new lines appear as the run goes (needs JavaScript; without it, reload)" : "finished"}</span>
${truncated && !live ? html` · only the first ${PAGE_LOG_LINES} lines are shown here` : ""}</p>
<pre class="log" id="log" data-stream="${base}/log${after ? `?after=${after}` : ""}" data-live="${live ? "1" : "0"}">${lines.map((l) => `${l.line}\n`).join("")}</pre>
${live ? LIVE_LOG_SCRIPT : ""}`;
}

/** GET /runs/:id — everything about one run; undefined when the run does not exist. */
export async function renderRunPage(options: DashboardOptions, runId: string): Promise<string | undefined> {
  const run = scrub(options, await options.runs.getRun(runId));
  if (!run) return undefined;
  const [lines, position] = await Promise.all([
    options.logs.readLog(runId, undefined, PAGE_LOG_LINES + 1).then((entries) => scrub(options, entries)),
    // The position is a nicety: when Redis cannot say it, the page shows the run without it.
    FINISHED.has(run.state) ? undefined : options.queues.position(runId).catch(() => undefined),
  ]);
  const results = resultsOf(run);
  const base = runLink(run.runId);
  const body = html`<h1>${run.job.recipe} @ <code>${shortSha(run.job.sha)}</code> ${stateChip(run.state)}</h1>
${facts(run, position)}
<p><a href="${base}/results.json">results.json</a> · <a href="${base}/log.txt">full log (log.txt)</a> ·
<a href="/recipes/${encodeURIComponent(run.job.recipe)}">history of ${run.job.recipe}</a></p>
${
  results
    ? verdict(run, results)
    : run.result !== undefined
      ? html`<p class="fail">This run's results use a format this dashboard does not know; see results.json.</p>`
      : html`<h2>Verdict</h2><p class="muted">${NO_VERDICT[run.state] ?? "No verdict yet."}</p>`
}
${liveLog(run, lines.slice(0, PAGE_LOG_LINES), lines.length > PAGE_LOG_LINES)}`;
  return page(`${run.job.recipe} @ ${shortSha(run.job.sha)}`, body);
}
