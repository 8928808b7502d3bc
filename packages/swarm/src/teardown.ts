import { infraError, retry, runStackOf } from "@taster/core";
import { openEvents } from "./engine-events";
import type { Host } from "./host";
import { NAMESPACE_LABEL, STACK_LABEL } from "./labels";
import { forgetProbeContainer } from "./probe";
import { isWarm } from "./warm";

const CONTAINERS_GONE_TIMEOUT_MS = 120_000;
const FALLBACK_POLL_MS = 500;
const TEARDOWN_PASSES = 3;

/** A stack object found on the host, e.g. `volume st1_db_data`. */
interface StackObject {
  kind: "service" | "container" | "network" | "secret" | "config" | "volume";
  id: string;
  name: string;
}

const describe = (object: StackObject) => `${object.kind} ${object.name}`;

/** Whether an object with these labels and name belongs to the stack (by label or by `<stack>_` prefix). */
function belongs(
  stack: string,
  name: string | undefined,
  labels: Record<string, string> | undefined | null,
): boolean {
  // A warm known-good (warm.ts) belongs to no stack, whatever its name or labels say.
  if (isWarm(labels)) return false;
  return (
    labels?.[NAMESPACE_LABEL] === stack ||
    labels?.[STACK_LABEL] === stack ||
    (name ?? "").startsWith(`${stack}_`)
  );
}

async function stackServices(host: Host, stack: string): Promise<StackObject[]> {
  return (await host.docker.listServices())
    .filter((service) => belongs(stack, service.Spec?.Name, service.Spec?.Labels))
    .map((service) => ({ kind: "service", id: service.ID, name: service.Spec?.Name ?? service.ID }));
}

async function stackContainers(host: Host, stack: string): Promise<StackObject[]> {
  return (await host.docker.listContainers({ all: true }))
    .filter((container) => {
      const service = container.Labels["com.docker.swarm.service.name"];
      return (
        belongs(stack, service, container.Labels) ||
        belongs(stack, container.Names[0]?.replace(/^\//, ""), {})
      );
    })
    .map((container) => ({
      kind: "container",
      id: container.Id,
      name: container.Names[0]?.replace(/^\//, "") ?? container.Id,
    }));
}

async function stackNetworks(host: Host, stack: string): Promise<StackObject[]> {
  return (await host.docker.listNetworks())
    .filter((network) => belongs(stack, network.Name, network.Labels))
    .map((network) => ({ kind: "network", id: network.Id, name: network.Name }));
}

async function stackSecrets(host: Host, stack: string): Promise<StackObject[]> {
  return (await host.docker.listSecrets())
    .filter((secret) => belongs(stack, secret.Spec?.Name, secret.Spec?.Labels))
    .map((secret) => ({ kind: "secret", id: secret.ID, name: secret.Spec?.Name ?? secret.ID }));
}

async function stackConfigs(host: Host, stack: string): Promise<StackObject[]> {
  return (await host.docker.listConfigs())
    .filter((config) => belongs(stack, config.Spec?.Name, config.Spec?.Labels))
    .map((config) => ({ kind: "config", id: config.ID, name: config.Spec?.Name ?? config.ID }));
}

async function stackVolumes(host: Host, stack: string): Promise<StackObject[]> {
  const { Volumes } = await host.docker.listVolumes();
  return (Volumes ?? [])
    .filter((volume) => belongs(stack, volume.Name, volume.Labels))
    .map((volume) => ({ kind: "volume", id: volume.Name, name: volume.Name }));
}

/** Everything of the stack still on the host, by label and by name prefix; empty means clean. */
export async function findResidue(host: Host, stack: string): Promise<string[]> {
  const found = await Promise.all([
    stackServices(host, stack),
    stackContainers(host, stack),
    stackNetworks(host, stack),
    stackSecrets(host, stack),
    stackConfigs(host, stack),
    stackVolumes(host, stack),
  ]);
  return found.flat().map(describe);
}

/**
 * Removes the stack: services first, then (once their containers are gone) networks, secrets,
 * configs and volumes. Idempotent and safe after a crash: it works from what is on the host,
 * not from what a run remembers. Returns what is left (empty when clean).
 */
export async function teardownStack(host: Host, stack: string): Promise<{ residue: string[] }> {
  await forgetProbeContainer(host, stack);
  let residue: string[] = [];
  // A second pass catches what raced the first (e.g. a container the scheduler was still creating).
  for (let pass = 0; pass < TEARDOWN_PASSES; pass++) {
    await removeOnce(host, stack);
    residue = await findResidue(host, stack);
    if (residue.length === 0) break;
  }
  return { residue };
}

async function removeOnce(host: Host, stack: string): Promise<void> {
  const since = Date.now();
  const services = await stackServices(host, stack);
  for (const service of services) await ignoreMissing(host.docker.getService(service.id).remove());
  await removeStandaloneContainers(host, stack);
  await waitForContainersGone(host, stack, new Set(services.map((service) => service.id)), since);
  for (const network of await stackNetworks(host, stack)) {
    await retryBusy(() => ignoreMissing(host.docker.getNetwork(network.id).remove()));
  }
  for (const secret of await stackSecrets(host, stack))
    await ignoreMissing(host.docker.getSecret(secret.id).remove());
  for (const config of await stackConfigs(host, stack))
    await ignoreMissing(host.docker.getConfig(config.id).remove());
  for (const volume of await stackVolumes(host, stack)) {
    await retryBusy(() => ignoreMissing(host.docker.getVolume(volume.id).remove()));
  }
}

/** Probe containers and other non-swarm containers labelled with the stack are not removed by swarm. */
async function removeStandaloneContainers(host: Host, stack: string): Promise<void> {
  for (const container of await host.docker.listContainers({
    all: true,
    filters: { label: [`${STACK_LABEL}=${stack}`] },
  })) {
    if (container.Labels["com.docker.swarm.service.name"]) continue;
    await ignoreMissing(host.docker.getContainer(container.Id).remove({ force: true }));
  }
}

/** Tasks of removed services linger until their containers are gone (or were never made). */
async function remainingTasks(host: Host, serviceIds: Set<string>): Promise<number> {
  if (serviceIds.size === 0) return 0;
  const tasks = (await host.docker.listTasks()) as { ServiceID: string }[];
  return tasks.filter((task) => serviceIds.has(task.ServiceID)).length;
}

/**
 * Waits until the stack has no containers and its removed services no tasks. Woken by container
 * destroy events; a slow poll covers a broken event stream.
 */
async function waitForContainersGone(
  host: Host,
  stack: string,
  serviceIds: Set<string>,
  since: number,
): Promise<void> {
  const events = await openEvents(host.docker, since);
  try {
    await new Promise<void>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const deadline = setTimeout(async () => {
        finish();
        const left = (await stackContainers(host, stack).catch(() => [])).map(describe);
        reject(
          infraError(
            `containers of ${stack} still present after ${CONTAINERS_GONE_TIMEOUT_MS / 1000}s: ${left.join(", ")}`,
          ),
        );
      }, CONTAINERS_GONE_TIMEOUT_MS);
      const finish = () => {
        done = true;
        clearTimeout(timer);
        clearTimeout(deadline);
      };
      const check = async () => {
        if (done) return;
        clearTimeout(timer);
        try {
          const [containers, tasks] = await Promise.all([
            stackContainers(host, stack),
            remainingTasks(host, serviceIds),
          ]);
          if (containers.length === 0 && tasks === 0) {
            finish();
            resolve();
          } else if (!done) timer = setTimeout(check, FALLBACK_POLL_MS);
        } catch (error) {
          finish();
          reject(error);
        }
      };
      events.on("event", (event) => {
        if (event.Action === "destroy") void check();
      });
      events.on("error", () => {});
      void check();
    });
  } finally {
    events.close();
  }
}

async function ignoreMissing(operation: Promise<unknown>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
}

/** Networks and volumes can stay "in use" for a moment after their last container went away. */
const retryBusy = (operation: () => Promise<void>): Promise<void> =>
  retry(operation, {
    attempts: 41,
    minMs: 250,
    maxMs: 250,
    retryIf: (error) => (error as { statusCode?: number }).statusCode === 409,
  });

export interface JanitorOptions {
  live: Set<string>;
  dryRun: boolean;
  /** Only stacks whose name starts with this (e.g. one Taster instance's prefix, or a test's). */
  prefix?: string;
}

/**
 * Taster stacks on the host (anything carrying `taster.stack`) whose stack is not in `live`.
 * Removes them unless `dryRun`; returns the stack names either way.
 */
export async function janitor(host: Host, opts: JanitorOptions): Promise<string[]> {
  const stacks = new Set<string>();
  const add = (labels: Record<string, string> | undefined | null) => {
    const stack = isWarm(labels) ? undefined : labels?.[STACK_LABEL];
    // A live run's fresh stack is as live as its main one.
    if (stack && !opts.live.has(runStackOf(stack)) && stack.startsWith(opts.prefix ?? "")) stacks.add(stack);
  };
  for (const service of await host.docker.listServices()) add(service.Spec?.Labels);
  for (const secret of await host.docker.listSecrets()) add(secret.Spec?.Labels);
  for (const network of await host.docker.listNetworks()) add(network.Labels);
  for (const volume of (await host.docker.listVolumes()).Volumes ?? []) add(volume.Labels);
  for (const container of await host.docker.listContainers({ all: true })) add(container.Labels);
  const found = [...stacks].sort();
  if (opts.dryRun) return found;
  const left: string[] = [];
  for (const stack of found) left.push(...(await teardownStack(host, stack)).residue);
  if (left.length) throw infraError(`janitor could not remove: ${left.join(", ")}`);
  return found;
}
