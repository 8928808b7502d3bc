/**
 * A check run's output (GitHub checks, and forges that grow them): the conclusion, a title, the
 * verdict table as the summary, the lint findings and failures as the text. Same words and rows as
 * the PR comment; each part fitted to the checks API's own limit.
 */
import type { Results } from "@taster/contracts";
import { markdownCode, markdownText, type Redactor, redactDeep } from "@taster/core";
import { fitComment } from "./fit";
import { lintFindings, notRunLines, renderFailures, tierRow, tierTable } from "./markdown";
import { failuresOf, formatDuration, OUTCOME_WORD, rowsOf } from "./model";

/** GitHub refuses a check run whose summary or text is longer than this. */
export const CHECK_OUTPUT_LIMIT = 65_535;

export type CheckConclusion = "success" | "failure" | "neutral";

export interface CheckRunOutput {
  conclusion: CheckConclusion;
  title: string;
  summary: string;
  text: string;
}

const CONCLUSION: Record<Results["outcome"], CheckConclusion> = {
  pass: "success",
  fail: "failure",
  // Taster's own failure says nothing about the recipe: neither green nor red.
  error: "neutral",
};

export function renderCheckRun(
  raw: Results,
  links: { runUrl: string; logUrl: string },
  redactor: Redactor,
  limit = CHECK_OUTPUT_LIMIT,
): CheckRunOutput {
  const results = redactDeep(raw, redactor);
  const title =
    results.errorKind === "config"
      ? "configuration error, no tier was run"
      : `${OUTCOME_WORD[results.outcome]}, level L${results.level}`;
  const versions = `base ${markdownCode(results.versions.base ?? "none")} → head ${markdownCode(results.versions.head || "?")}`;
  const summary = [
    `${versions} · ${formatDuration(results.timings.totalMs)} · [run page](${links.runUrl}) · [full log](${links.logUrl})`,
    ...(results.error ? ["", `**Error:** ${markdownText(results.error)}`] : []),
    "",
    ...tierTable(results),
    ...notRunLines(results),
  ].join("\n");
  const items = failuresOf(results);
  const text = [...lintFindings(results), renderFailures(links.logUrl, items, items.length, 12, 2_000)]
    .join("\n")
    .trim();
  const cut = `\n\n… truncated; see the [full log](${links.logUrl}).`;
  return {
    conclusion: CONCLUSION[results.outcome],
    title: redactor.redact(title),
    summary: fitComment(redactor.redact(summary), limit, cut),
    text: fitComment(redactor.redact(text), limit, cut),
  };
}

/**
 * One tier's check run: its row of the verdict table as the summary, its own failures as the text.
 * The title is the tier's commit-status description, so both surfaces say the same words.
 */
export function renderTierCheck(
  raw: Results,
  tier: string,
  title: string,
  links: { runUrl: string; logUrl: string },
  redactor: Redactor,
  limit = CHECK_OUTPUT_LIMIT,
): Omit<CheckRunOutput, "conclusion"> {
  const results = redactDeep(raw, redactor);
  const row = rowsOf(results).find(([name]) => name === tier);
  const summary = [
    `[run page](${links.runUrl}) · [full log](${links.logUrl})`,
    "",
    "| tier | result | tests | duration | note |",
    "|---|---|---|---|---|",
    ...(row ? [tierRow(row[0], row[1])] : []),
  ].join("\n");
  const items = failuresOf(results).filter((f) => f.tier === tier);
  const text = renderFailures(links.logUrl, items, items.length, 12, 2_000).trim();
  const cut = `\n\n… truncated; see the [full log](${links.logUrl}).`;
  return {
    title: redactor.redact(title),
    summary: fitComment(redactor.redact(summary), limit, cut),
    text: fitComment(redactor.redact(text), limit, cut),
  };
}
