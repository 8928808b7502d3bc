/** Markdown pieces the PR comment and the check run share: tier rows, lint findings, failures. */

import type { Results, TierResult } from "@taster/contracts";
import { markdownCode, markdownCodeBlock, markdownText } from "@taster/core";
import { type FailureItem, formatDuration, repoLocalNotRun, rowsOf, STATUS_WORD, testCount } from "./model";

const ICON: Record<TierResult["status"], string> = { pass: "✅", fail: "❌", skip: "⛔", na: "➖" };

export function tierRow(tier: string, result: TierResult): string {
  const count = testCount(result) ?? "–";
  const time = result.timings.totalMs ? formatDuration(result.timings.totalMs) : "–";
  const label = result.deployed ? `${tier} (${markdownText(result.deployed, 60)})` : tier;
  return `| ${label} | ${ICON[result.status]} ${STATUS_WORD[result.status]} | ${count} | ${time} | ${markdownText(result.reason ?? "")} |`;
}

/** What the lint row found, errors first: each with its rule's source, so a reader can check it. */
export function lintFindings(results: Results): string[] {
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

function excerpt(text: string, lines: number, chars: number): string {
  const all = text.split("\n");
  let out = all.slice(0, lines).join("\n");
  if (out.length > chars) out = `${out.slice(0, chars)}…`;
  if (all.length > lines) out += `\n… (${all.length - lines} more lines in the full log)`;
  return out;
}

export function renderFailures(
  logUrl: string,
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
    parts.push(`- … and ${items.length - shown} more; see the [full log](${logUrl}).`);
  }
  return `\n#### Failures (${items.length})\n\n${parts.join("\n")}\n`;
}

const indent = (text: string) =>
  text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");

export const OUTCOME_ICON: Record<Results["outcome"], string> = { pass: "✅", fail: "❌", error: "⚠️" };

/** Below the table: repo-local files found and not run (a green table must not hide them), and the fix. */
export function notRunLines(results: Results): string[] {
  const notice = repoLocalNotRun(results);
  if (!notice) return [];
  return [
    "",
    `⚠️ ${markdownText(notice.line)}${notice.approve ? `. An admin approves this content, after reviewing it, with ${markdownCode(notice.approve)}` : ""}`,
  ];
}

/** The verdict's table: a header, then one row per tier in run order. */
export function tierTable(results: Results): string[] {
  return [
    "| tier | result | tests | duration | note |",
    "|---|---|---|---|---|",
    ...rowsOf(results).map(([tier, row]) => tierRow(tier, row)),
  ];
}
