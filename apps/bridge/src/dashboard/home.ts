import type { RunJob, RunQueues, RunRecord } from "@taster/queue";
import { html, type SafeHtml } from "./html";
import { page } from "./layout";
import type { DashboardOptions } from "./options";
import {
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

/** BullMQ's job, as RunQueues' queues hand it out (bullmq itself is the queue package's dependency). */
type QueuedJob = Awaited<ReturnType<ReturnType<RunQueues["queueFor"]>["getJobs"]>>[number];

interface HostQueue {
  name: string;
  capacity: number;
  active: RunJob[];
  /** Next to start first: index 0 is position 1. */
  waiting: RunJob[];
  /** Held back for a moment (e.g. another run of the same commit is on the host). */
  delayed: RunJob[];
}

const runJobOf = (job: QueuedJob): RunJob => ({ ...(job.data as RunJob), runId: job.id ?? job.data.runId });

const SHOWN_PER_LIST = 100;

async function hostQueue(queues: RunQueues, host: { name: string; capacity: number }): Promise<HostQueue> {
  const queue = queues.queueFor(host.name);
  // asc = true lists the wait list from its consuming end, so the order is the start order.
  const [active, waiting, delayed] = await Promise.all([
    queue.getJobs(["active"], 0, SHOWN_PER_LIST - 1, true),
    queue.getJobs(["wait"], 0, SHOWN_PER_LIST - 1, true),
    queue.getJobs(["delayed"], 0, SHOWN_PER_LIST - 1, true),
  ]);
  return {
    ...host,
    active: active.map(runJobOf),
    waiting: waiting.map(runJobOf),
    delayed: delayed.map(runJobOf),
  };
}

function jobRow(job: RunJob, position: string): SafeHtml {
  return html`<tr data-run="${job.runId}">
<td>${position}</td>
<td><a href="${runLink(job.runId)}">${job.recipe}</a></td>
<td>${job.repo}#${job.pr}</td>
<td><code>${shortSha(job.sha)}</code></td>
<td>${job.stages.join(", ")}</td>
<td>${job.requestedBy}</td>
</tr>`;
}

function hostSection(host: HostQueue): SafeHtml {
  const rows = [
    ...host.active.map((job) => jobRow(job, "running")),
    ...host.waiting.map((job, i) => jobRow(job, String(i + 1))),
    ...host.delayed.map((job) => jobRow(job, "held back")),
  ];
  return html`<h3>${host.name} <span class="muted">— ${host.active.length}/${host.capacity} running, ${host.waiting.length} waiting</span></h3>
${
  rows.length
    ? html`<table class="queue" data-host="${host.name}">
<thead><tr><th>position</th><th>recipe</th><th>pull request</th><th>sha</th><th>tiers</th><th>requested by</th></tr></thead>
<tbody>${rows}</tbody></table>`
    : html`<p class="muted">Idle.</p>`
}`;
}

function runRow(run: RunRecord): SafeHtml {
  const results = resultsOf(run);
  return html`<tr data-run="${run.runId}">
<td><a href="/recipes/${encodeURIComponent(run.job.recipe)}">${run.job.recipe}</a></td>
<td>${pullRequest(run.job)}</td>
<td><code>${shortSha(run.job.sha)}</code></td>
<td>${stateCell(run, results)}</td>
<td>${levelChip(results?.level)}</td>
<td>${when(run.createdAt)}</td>
<td>${runDuration(run)}</td>
<td><a href="${runLink(run.runId)}">${run.runId}</a></td>
</tr>`;
}

/** GET / — what is running and waiting on each host, and the latest runs. */
export async function renderHome(options: DashboardOptions): Promise<string> {
  const [hosts, runs] = scrub(
    options,
    await Promise.all([
      Promise.all(options.hosts.map((host) => hostQueue(options.queues, host))),
      options.runs.listRuns(options.recentRuns ?? 50),
    ]),
  );
  const body = html`<h1>Queue</h1>
${hosts.length ? hosts.map(hostSection) : html`<p class="muted">No hosts configured.</p>`}
<h2>Recent runs</h2>
${
  runs.length
    ? html`<table class="runs">
<thead><tr><th>recipe</th><th>pull request</th><th>sha</th><th>state</th><th>level</th><th>requested</th><th>duration</th><th>run</th></tr></thead>
<tbody>${runs.map(runRow)}</tbody></table>`
    : html`<p class="muted">No runs yet. Comment <code>!testme</code> on a recipe pull request to start one.</p>`
}`;
  return page("Queue and recent runs", body, { refreshSec: 30 });
}
