import type { Settings } from "@taster/recipe";
import type { Plan, PlannedService } from "@taster/swarm";

/**
 * What the zero-config floor requests, read from the recipe the way the proxy (traefik) reads it,
 * and where each value came from (printed in the manifest). `taster.yml` overrides each value;
 * its absence is no override.
 */
export interface Serving {
  service: string;
  port: number;
  /** The Host header (the router rule's host); undefined when the recipe names none. */
  host?: string;
  from: { service: string; port: string; host: string };
}

const PORT_LABEL = /^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port$/;
const RULE_LABEL = /^traefik\.http\.routers\.[^.]+\.rule$/;
/** The first host of a rule such as ``Host(`a.example`) || Host(`b.example`)``. */
const RULE_HOST = /Host\(\s*[`"']([^`"']+)[`"']/;

const HOST_NAME = /^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$/;

type Overrides = Pick<Settings, "healthService" | "healthPort" | "healthHost">;

export function resolveServing(plan: Plan, settings: Overrides): Serving {
  const picked = pickService(plan, settings);
  const service = plan.services.find((s) => s.name === picked.name);
  const port = portOf(service, settings);
  const host = hostOf(service, settings);
  return {
    service: picked.name,
    port: port.value,
    ...(host.value ? { host: host.value } : {}),
    from: { service: picked.from, port: port.from, host: host.from },
  };
}

function pickService(plan: Plan, settings: Overrides): { name: string; from: string } {
  if (settings.healthService) return { name: settings.healthService, from: "taster.yml healthService" };
  const enabled = plan.services.filter((s) => s.labels["traefik.enable"] === "true");
  // Several routed services: the one named app is the app (abra's convention), else the first.
  const routed = enabled.find((s) => s.name === "app") ?? enabled[0];
  if (routed) return { name: routed.name, from: "the service with traefik.enable=true" };
  return { name: plan.appService, from: "no service has traefik.enable=true: the app service" };
}

function portOf(service: PlannedService | undefined, settings: Overrides): { value: number; from: string } {
  if (settings.healthPort !== undefined) return { value: settings.healthPort, from: "taster.yml healthPort" };
  const label = Object.entries(service?.labels ?? {}).find(([key]) => PORT_LABEL.test(key));
  const port = Number(label?.[1]);
  if (label && Number.isInteger(port) && port > 0 && port < 65536) {
    return { value: port, from: `traefik label on ${service?.name}` };
  }
  return { value: 80, from: `the default (no loadbalancer.server.port label on ${service?.name ?? "it"})` };
}

function hostOf(service: PlannedService | undefined, settings: Overrides): { value?: string; from: string } {
  if (settings.healthHost) return { value: settings.healthHost, from: "taster.yml healthHost" };
  for (const [key, rule] of Object.entries(service?.labels ?? {})) {
    const host = RULE_LABEL.test(key) ? RULE_HOST.exec(rule)?.[1] : undefined;
    // Recipe text goes into a request header: only a plain host name, never anything to inject.
    if (host && HOST_NAME.test(host)) return { value: host, from: `traefik router rule on ${service?.name}` };
  }
  return { from: "no Host rule: no Host header" };
}

/** The manifest's line, e.g. "service app (…); port 8080 from traefik label on app; Host … from …". */
export function describeServing(plan: Plan, settings: Overrides): string {
  const s = resolveServing(plan, settings);
  return [
    `service ${s.service} (${s.from.service})`,
    `port ${s.port} from ${s.from.port}`,
    s.host ? `Host ${s.host} from ${s.from.host}` : s.from.host,
  ].join("; ");
}

/** The serving target as the tests' context carries it (before install: taster.yml or defaults). */
export function servingSettings(
  plan: Plan | undefined,
  settings: Overrides,
): { healthService: string; healthPort: number; healthHost?: string } {
  const s = plan
    ? resolveServing(plan, settings)
    : {
        service: settings.healthService ?? "app",
        port: settings.healthPort ?? 80,
        host: settings.healthHost,
      };
  return { healthService: s.service, healthPort: s.port, ...(s.host ? { healthHost: s.host } : {}) };
}
