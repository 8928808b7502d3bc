import type { Plan } from "@taster/swarm";
import type { LintFinding } from "./finding";

/** abra recipe lint R002 (warn): "healthcheck enabled for all services"; here: the serving one. */
export function healthcheckFindings(plan: Plan, servingService: string): LintFinding[] {
  const service = plan.services.find((s) => s.name === servingService);
  if (!service || hasHealthcheck(service.healthcheck)) return [];
  return [
    {
      check: "healthcheck",
      severity: "warning",
      message: `the serving service ${servingService} has no healthcheck: swarm (and abra's deploy wait) call it converged as soon as it starts, before it serves (add a healthcheck: test: [...] to ${servingService})`,
      source: 'abra recipe lint R002 (warn): "healthcheck enabled for all services"',
    },
  ];
}

function hasHealthcheck(spec: unknown): boolean {
  if (!spec || typeof spec !== "object") return false;
  const { disable, test } = spec as { disable?: boolean; test?: unknown };
  if (disable) return false;
  if (Array.isArray(test)) return test.length > 0 && test[0] !== "NONE";
  return typeof test === "string" && test.trim() !== "";
}
