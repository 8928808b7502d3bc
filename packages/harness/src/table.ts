/** The CLI table is rendered by @taster/report (one renderer per surface); re-exported for the CLI. */
export { resultsTable, rowsOf, sweepTable, tierLabel } from "@taster/report";
