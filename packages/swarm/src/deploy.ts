import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recipeError, TasterError } from "@taster/core";
import { stringify } from "yaml";
import type { Host } from "./host";
import { appLabel, STACK_LABEL } from "./labels";
import type { Plan } from "./plan";
import type { EndpointMode } from "./vip";

/**
 * What abra records on the app service about the deployed checkout. abra never writes
 * `coop-cloud.<stack>.version`: that label is the recipe's own (compose-declared, bumped by
 * `abra recipe release`). `chaos` and `chaos-version` are set only on a chaos deploy
 * (`abra app deploy --chaos`, an unreleased commit), as abra's deploy does.
 */
export interface AbraDeployLabels {
  chaos: boolean;
  /** Short sha of the deployed checkout (`+U` when dirty); written only when `chaos`. */
  chaosVersion: string;
}

/**
 * The deployments one run made, per stack. Each run keeps its own (passed to deployStack), so a
 * retest that reuses a stack name, or another run in the same process, never shows in its count.
 */
export class DeployLedger {
  private readonly counts = new Map<string, number>();

  /** How many times this run has deployed `stack` (the run asserts it is 1, or 2 with an upgrade). */
  count(stack: string): number {
    return this.counts.get(stack) ?? 0;
  }

  record(stack: string): void {
    this.counts.set(stack, this.count(stack) + 1);
  }
}

export interface DeployOptions {
  endpointMode?: EndpointMode;
  /** Where a deploy that the engine accepted is counted (the caller's run); none: not counted. */
  ledger?: DeployLedger;
}

/**
 * `docker stack deploy` of the plan's compose files plus a generated overlay carrying abra's labels
 * and Taster's stack label. Upgrade is the same call with a newer checkout's plan.
 */
export async function deployStack(
  host: Host,
  plan: Plan,
  abra: AbraDeployLabels,
  opts: DeployOptions = {},
): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), `taster-deploy-${plan.stack}-`));
  try {
    const overlay = join(scratch, "compose.taster.yml");
    await writeFile(overlay, stringify(overlayCompose(plan, abra, opts.endpointMode)));
    const files = [...plan.composeFiles.map((file) => join(plan.dir, file)), overlay];
    const args = ["stack", "deploy", "--resolve-image", "never", "--detach=true", "--prune"];
    await host
      .cli([...args, ...files.flatMap((file) => ["-c", file]), plan.stack], { cwd: plan.dir, env: plan.env })
      .catch((error: unknown) => {
        const stderr = (error as { stderr?: string }).stderr?.trim();
        // What the daemon rejects about the spec (bad mount, unknown network…) is the recipe's to fix.
        if (
          error instanceof TasterError &&
          stderr &&
          !/Cannot connect|connection refused|EOF/i.test(stderr)
        ) {
          throw recipeError(`docker stack deploy ${plan.stack} failed: ${stderr}`);
        }
        throw error;
      });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  opts.ledger?.record(plan.stack);
}

/**
 * The overlay compose file: abra labels on the app service, the stack label on everything
 * labelled, and on a host without working VIPs `endpoint_mode: dnsrr` on every service (so
 * services reach each other by name there, as they would through a VIP elsewhere).
 */
export function overlayCompose(
  plan: Plan,
  abra: AbraDeployLabels,
  endpointMode: EndpointMode = "vip",
): Record<string, unknown> {
  const stackLabel = { [STACK_LABEL]: plan.stack };
  const services: Record<string, unknown> = {};
  for (const service of plan.services) {
    const labels: Record<string, string> = { ...stackLabel };
    if (service.name === plan.appService && abra.chaos) {
      labels[appLabel(plan.stack, "chaos")] = "true";
      labels[appLabel(plan.stack, "chaos-version")] = abra.chaosVersion;
    }
    services[service.name] = {
      deploy: { labels, ...(endpointMode === "dnsrr" ? { endpoint_mode: "dnsrr" } : {}) },
    };
  }
  const overlay: Record<string, unknown> = { version: "3.8", services };
  const networks = ownObjects(plan.rendered.networks);
  const volumes = ownObjects(plan.rendered.volumes);
  if (networks.length)
    overlay.networks = Object.fromEntries(networks.map((name) => [name, { labels: stackLabel }]));
  if (volumes.length)
    overlay.volumes = Object.fromEntries(volumes.map((name) => [name, { labels: stackLabel }]));
  return overlay;
}

// Networks/volumes the stack creates itself (external ones belong to the host).
function ownObjects(specs: Record<string, { external?: boolean } | null> | undefined): string[] {
  return Object.entries(specs ?? {})
    .filter(([, spec]) => spec?.external !== true)
    .map(([name]) => name);
}

/** The deployed labels of the app service (to check what is really running, e.g. chaos-version). */
export async function readAppLabels(host: Host, plan: Plan): Promise<Record<string, string>> {
  const service = await host.docker.getService(`${plan.stack}_${plan.appService}`).inspect();
  return service.Spec?.Labels ?? {};
}

/** Each service's `UpdateStatus.State` (`completed`, `rollback_completed`, … or undefined if never updated). */
export async function updateState(host: Host, plan: Plan): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const service of plan.services) {
    const info = await host.docker.getService(service.fullName).inspect();
    out[service.name] = info.UpdateStatus?.State;
  }
  return out;
}
