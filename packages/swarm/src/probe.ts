import { infraError, retry, tolerated, usageError } from "@taster/core";
import type Dockerode from "dockerode";
import { DEFAULT_OUTPUT_MAX_BYTES } from "./capped";
import { ExecTimeout, execInContainer, isContainerUnavailable } from "./exec";
import type { Host } from "./host";
import { STACK_LABEL } from "./labels";
import { debugLine } from "./log";
import type { Plan } from "./plan";

export const DEFAULT_PROBE_IMAGE = "taster-lab/probe:latest";
/** The external network a Co-op Cloud proxy (traefik) shares with apps. */
export const PROXY_NETWORK = "proxy";

export interface ProbeOptions {
  service?: string;
  port?: number;
  path?: string;
  /** The Host header, as the proxy would send it (the router rule's host). */
  hostHeader?: string;
  timeoutMs?: number;
  image?: string;
  /** Bytes of the body kept (the first ones; default 4 MiB): the app may answer without end. */
  maxBodyBytes?: number;
}

export interface ProbeResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * An HTTP GET from inside the stack's proxy network, the way the proxy reaches the app: `wget -S`
 * against `tasks.<stack>_<service>:<port>`, run in the stack's probe container (see
 * keptProbeContainer) of the probe image.
 */
export async function httpProbe(host: Host, plan: Plan, opts: ProbeOptions = {}): Promise<ProbeResponse> {
  const serviceName = opts.service ?? plan.appService;
  const service = plan.services.find((candidate) => candidate.name === serviceName);
  if (!service) throw usageError(`${plan.stack} has no service ${serviceName}`);
  if (!service.networks.includes(PROXY_NETWORK)) {
    throw usageError(
      `service ${serviceName} is not on the ${PROXY_NETWORK} network, so no proxy could reach it`,
    );
  }
  const port = opts.port ?? proxyPort(service.labels) ?? 80;
  // `tasks.<service>` resolves to the task IPs, which is what traefik's swarm provider dials
  // (the service VIP needs IPVS, which not every host has).
  const url = `http://tasks.${service.fullName}:${port}${opts.path ?? "/"}`;
  // Right after an update swarm's DNS can lag the new task by a moment ("bad address"): traefik
  // would simply dial again, so a name that does not resolve yet is asked again.
  return retry(() => probeOnce(host, plan, url, opts), {
    attempts: NAME_ATTEMPTS,
    minMs: 1_000,
    maxMs: 1_000,
    retryIf: (error) => /bad address/.test(String(error)),
  });
}

/** Tries of a probe whose name does not resolve yet (one second apart). */
const NAME_ATTEMPTS = 4;

async function probeOnce(host: Host, plan: Plan, url: string, opts: ProbeOptions): Promise<ProbeResponse> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const image = opts.image ?? DEFAULT_PROBE_IMAGE;
  // No `wget -T`: busybox-static's wget crashes with it; the timeout is enforced from outside.
  const argv = [
    "wget",
    "-S",
    ...(opts.hostHeader ? ["--header", `Host: ${opts.hostHeader}`] : []),
    "-O",
    "-",
    url,
  ];
  const exec = async () => {
    const container = await keptProbeContainer(host, plan.stack, image);
    return execInContainer(host, container, argv, {
      timeoutMs,
      maxOutputBytes: opts.maxBodyBytes ?? DEFAULT_OUTPUT_MAX_BYTES,
      keepStdout: "head",
    });
  };
  try {
    // A kept container removed meanwhile (by hand, by the janitor) is made again, once.
    const { stdout, stderr } = await exec().catch(async (error: unknown) => {
      if (!isContainerUnavailable(error)) throw error;
      await forgetProbeContainer(host, plan.stack);
      return exec();
    });
    return parseWgetOutput(url, stdout, stderr);
  } catch (error) {
    if (!(error instanceof ExecTimeout)) throw error;
    // The only way to stop a wget that hangs is to remove its container; the next probe makes one.
    await removeProbeContainer(host, plan.stack);
    throw infraError(`HTTP probe of ${url} did not finish within ${timeoutMs / 1000}s`, error);
  }
}

/**
 * The stack's probe container: one idle container on the proxy network, kept for the stack's
 * life, that every probe of the stack runs its wget in. Starting a container on an overlay network
 * costs a second or more (the network attachment), an exec a tenth of that, and a run probes five
 * times or more. It is named after the stack, so every process probing the stack shares it, and
 * labelled with it, so teardown and the janitor remove it with the stack's other containers.
 */
const probeContainers = new WeakMap<Host, Map<string, Promise<Dockerode.Container>>>();

const probeContainerName = (stack: string) => `${stack}_taster-probe`;

function keptProbeContainer(host: Host, stack: string, image: string): Promise<Dockerode.Container> {
  const byStack = probeContainers.get(host) ?? new Map<string, Promise<Dockerode.Container>>();
  probeContainers.set(host, byStack);
  let container = byStack.get(stack);
  if (!container) {
    const starting = startProbeContainer(host, stack, image);
    starting.catch(() => {
      if (byStack.get(stack) === starting) byStack.delete(stack);
    });
    byStack.set(stack, starting);
    container = starting;
  }
  return container;
}

/**
 * Starts the stack's probe container ahead of its first probe (e.g. while the stack converges), if
 * any of its services is on the proxy network. Failures are left to that probe to report.
 */
export function readyProbeContainer(host: Host, plan: Plan, image = DEFAULT_PROBE_IMAGE): void {
  if (!plan.services.some((service) => service.networks.includes(PROXY_NETWORK))) return;
  keptProbeContainer(host, plan.stack, image).catch(tolerated("starting the probe container", debugLine));
}

/**
 * Forgets the stack's probe container in this process, once a start under way has ended (so that
 * teardown, which removes the container itself, finds it).
 */
export async function forgetProbeContainer(host: Host, stack: string): Promise<void> {
  const byStack = probeContainers.get(host);
  await byStack?.get(stack)?.catch(() => undefined);
  byStack?.delete(stack);
}

async function removeProbeContainer(host: Host, stack: string): Promise<void> {
  await forgetProbeContainer(host, stack);
  await host.docker
    .getContainer(probeContainerName(stack))
    .remove({ force: true })
    .catch(tolerated("removing the probe container", debugLine));
}

async function startProbeContainer(host: Host, stack: string, image: string): Promise<Dockerode.Container> {
  let container: Dockerode.Container;
  try {
    container = await host.docker.createContainer({
      name: probeContainerName(stack),
      Image: image,
      // Idle until removed (PID 1 ignores SIGTERM; removal kills it).
      Cmd: ["sleep", "2147483647"],
      Labels: { [STACK_LABEL]: stack, "taster.role": "probe" },
      HostConfig: { NetworkMode: PROXY_NETWORK },
    });
  } catch (error) {
    // Another process probing the stack made it first.
    if (statusOf(error) !== 409) throw error;
    container = host.docker.getContainer(probeContainerName(stack));
  }
  // Joining the overlay can time out on a busy engine ("attaching to network failed … context
  // deadline exceeded", seen with several deploys at once): the next try usually joins at once.
  await retry(() => startContainer(container), {
    attempts: 3,
    minMs: 1_000,
    maxMs: 1_000,
    retryIf: (error) => /attaching to network failed/.test(String(error)),
    onRetry: (error) =>
      debugLine(`probe container of ${stack} did not start, trying again: ${String(error)}`),
  });
  return container;
}

async function startContainer(container: Dockerode.Container): Promise<void> {
  await container.start().catch((error: unknown) => {
    if (statusOf(error) !== 304) throw error; // 304: already started
  });
}

const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

/** The port traefik would use: `traefik.http.services.<name>.loadbalancer.server.port`. */
function proxyPort(labels: Record<string, string>): number | undefined {
  for (const [key, value] of Object.entries(labels)) {
    if (/^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port$/.test(key)) return Number(value);
  }
  return undefined;
}

/**
 * Splits Docker's multiplexed log stream (8-byte frame headers: stream type, 3 zero bytes,
 * big-endian length) as it arrives, passing each frame's bytes on with its stream type.
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  private kind = 1;
  private left = 0;

  constructor(private readonly onFrame: (kind: number, bytes: Buffer) => void) {}

  push(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.left === 0) {
        if (data.length < 8) {
          this.pending = data;
          return;
        }
        this.kind = data[0] ?? 1;
        this.left = data.readUInt32BE(4);
        data = data.subarray(8);
        continue;
      }
      const take = Math.min(this.left, data.length);
      this.onFrame(this.kind, data.subarray(0, take));
      this.left -= take;
      data = data.subarray(take);
    }
  }
}

/** busybox `wget -S` prints the response head on stderr (indented), the body on stdout. */
export function parseWgetOutput(url: string, stdout: string, stderr: string): ProbeResponse {
  const lines = stderr.split(/\r?\n/);
  const statusLines = lines.filter((line) => /^\s*HTTP\/\d(\.\d)? \d{3}/.test(line));
  const statusLine = statusLines.at(-1);
  if (!statusLine) throw infraError(`HTTP probe of ${url} got no response: ${stderr.trim() || "no output"}`);
  const status = Number(/ (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  // Headers of the final response only (after any redirect).
  for (const line of lines.slice(lines.lastIndexOf(statusLine) + 1)) {
    const match = /^\s+([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
    if (match?.[1]) headers[match[1].toLowerCase()] = match[2] ?? "";
  }
  return { status, headers, body: stdout };
}
