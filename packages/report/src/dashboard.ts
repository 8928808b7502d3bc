/** The dashboard's run page: the verdict's tier table, as escaped HTML. */
import type { Results, TierResult } from "@taster/contracts";
import { html, type SafeHtml } from "./html";
import { formatDuration, rowsOf, STATUS_WORD, testCount } from "./model";

// Plain symbols, not emoji: they render in every font, including on machines without an emoji font.
const ICON: Record<TierResult["status"], string> = { pass: "✓", fail: "✗", skip: "⊘", na: "–" };

export function tierRowHtml(tier: string, result: TierResult): SafeHtml {
  return html`<tr data-tier="${tier}" class="${result.status}">
<td>${tier}</td>
<td>${ICON[result.status]} ${STATUS_WORD[result.status]}</td>
<td>${testCount(result) ?? "–"}</td>
<td>${result.timings.totalMs ? formatDuration(result.timings.totalMs) : "–"}</td>
<td>${result.reason ?? ""}</td>
</tr>`;
}

export function tierTableHtml(results: Results): SafeHtml {
  return html`<table class="tiers">
<thead><tr><th>tier</th><th>result</th><th>tests</th><th>duration</th><th>note</th></tr></thead>
<tbody>${rowsOf(results).map(([tier, row]) => tierRowHtml(tier, row))}</tbody></table>`;
}
