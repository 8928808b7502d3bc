import { type backupStack, execInService, type Host, httpProbe, type Plan } from "@taster/swarm";
import type { BackupArtifact, ServiceStatus } from "@taster/testkit";
import type { BrokerBackend } from "./broker";

const NAMESPACE_LABEL = "com.docker.stack.namespace";

export type BackupResult = Awaited<ReturnType<typeof backupStack>>;

/** What the broker's backend reads of the run as it goes: the current plan and the last backup. */
export interface LiveRun {
  host: Host;
  plan: Plan;
  probeImage?: string;
  backup: BackupResult | null;
}

function hasHealthcheck(spec: unknown): boolean {
  const test = (spec as { Test?: string[] } | undefined)?.Test;
  return Array.isArray(test) && test.length > 0 && test[0] !== "NONE";
}

async function taskHealth(run: LiveRun, containerId: string | undefined): Promise<string> {
  if (!containerId) return "none";
  try {
    const info = await run.host.docker.getContainer(containerId).inspect();
    return info.State?.Health?.Status ?? "none";
  } catch {
    return "unknown";
  }
}

/** Services of the run's stack as the engine sees them now (not as planned). */
export async function stackServices(run: LiveRun): Promise<ServiceStatus[]> {
  const { docker } = run.host;
  const stack = run.plan.stack;
  const services = await docker.listServices({ filters: { label: [`${NAMESPACE_LABEL}=${stack}`] } });
  const result: ServiceStatus[] = [];
  for (const service of services) {
    const spec = service.Spec;
    const fullName = spec?.Name ?? "";
    const tasks = await docker.listTasks({ filters: { service: [fullName], "desired-state": ["running"] } });
    const running = tasks.filter((t) => t.Status?.State === "running");
    const health = await Promise.all(
      running.map((t) => taskHealth(run, t.Status?.ContainerStatus?.ContainerID)),
    );
    const containerSpec = (
      spec?.TaskTemplate as { ContainerSpec?: { Image?: string; Healthcheck?: unknown } }
    )?.ContainerSpec;
    result.push({
      name: fullName.startsWith(`${stack}_`) ? fullName.slice(stack.length + 1) : fullName,
      fullName,
      image: (containerSpec?.Image ?? "").replace(/@sha256:.*$/, ""),
      desired: spec?.Mode?.Replicated?.Replicas ?? (spec?.Mode?.Global ? running.length : 0),
      running: running.length,
      health,
      hasHealthcheck: hasHealthcheck(containerSpec?.Healthcheck),
      ...(service.UpdateStatus?.State ? { updateState: service.UpdateStatus.State } : {}),
    });
  }
  return result.sort((a, b) => a.name.localeCompare(b.name));
}

/** The broker's backend: every operation is bound to the run's one stack. */
export function swarmBackend(run: LiveRun): BrokerBackend {
  return {
    exec: (service, argv, timeoutMs) =>
      execInService(run.host, run.plan.stack, service, argv, timeoutMs ? { timeoutMs } : undefined),
    http: (req) =>
      httpProbe(run.host, run.plan, {
        service: req.service,
        port: req.port,
        path: req.path,
        timeoutMs: req.timeoutMs,
        ...(req.hostHeader ? { hostHeader: req.hostHeader } : {}),
        ...(run.probeImage ? { image: run.probeImage } : {}),
      }),
    services: () => stackServices(run),
    labels: async (service) => {
      const info = await run.host.docker.getService(`${run.plan.stack}_${service}`).inspect();
      return (info.Spec?.Labels ?? {}) as Record<string, string>;
    },
    backupArtifact: (): BackupArtifact | null =>
      run.backup ? { size: run.backup.size, sha256: run.backup.sha256, entries: run.backup.entries } : null,
  };
}
