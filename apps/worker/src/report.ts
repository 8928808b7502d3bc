/** What the worker says on the PR is rendered by @taster/report (one renderer per surface). */
export {
  type CommitState,
  type CommitStatus,
  SUMMARY_CONTEXT,
  tierContext,
} from "@taster/contracts";
export {
  COMMENT_LIMIT,
  finalStatuses,
  formatDuration,
  type Report,
  type ReportContext,
  renderCancelled,
  renderConfigError,
  renderFinal,
  renderInfraError,
  renderRunning,
} from "@taster/report";
