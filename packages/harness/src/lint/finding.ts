/**
 * One thing the lint row found, and the rule it follows (named in the comment and docs/swarm.md).
 * `error`: abra would refuse the recipe, so the run stops before anything is deployed.
 * `warning`: abra warns or an operator loses something; listed, the run goes on.
 */
export interface LintFinding {
  check: "compose-schema" | "version-label" | "healthcheck" | "config-version" | "backup-restore-hook";
  severity: "error" | "warning";
  message: string;
  /** Where the rule comes from (abra, backup-bot-two, swarm), for the reader who doubts it. */
  source: string;
}
