// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages name compose variables literally, as ${STACK_NAME}
import type { Plan } from "@taster/swarm";
import type { LintFinding } from "./finding";

/** abra reads which release runs from `coop-cloud.${STACK_NAME}.version` on the stack's services. */
export function versionLabelFindings(plan: Plan): LintFinding[] {
  const key = `coop-cloud.${plan.stack}.version`;
  if (plan.services.some((s) => s.labels[key] !== undefined)) return [];
  return [
    {
      check: "version-label",
      severity: "warning",
      message: `no service has the label coop-cloud.\${STACK_NAME}.version: abra cannot tell which release is deployed (add it under deploy.labels of the app service, e.g. "coop-cloud.\${STACK_NAME}.version=1.0.0+1.0")`,
      source:
        "abra reads the deployed version from coop-cloud.${STACK_NAME}.version (abra app ls / app deploy)",
    },
  ];
}
