import { infraError, retry, tolerated, usageError } from "@taster/core";
import type Dockerode from "dockerode";
import { CappedBuffer, DEFAULT_OUTPUT_MAX_BYTES } from "./capped";
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
 * An HTTP GET from inside the stack's proxy network, the way the proxy reaches the app: a
 * short-lived container of the probe image runs `wget -S` against `<stack>_<service>:<port>`.
 * The probe container is always removed.
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
  const container = await host.docker.createContainer({
    Image: opts.image ?? DEFAULT_PROBE_IMAGE,
    // No `wget -T`: busybox-static's wget crashes with it; the timeout is enforced from outside.
    Cmd: ["wget", "-S", ...(opts.hostHeader ? ["--header", `Host: ${opts.hostHeader}`] : []), "-O", "-", url],
    Labels: { [STACK_LABEL]: plan.stack, "taster.role": "probe" },
    HostConfig: { NetworkMode: PROXY_NETWORK },
  });
  try {
    await container.start();
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      container.wait() as Promise<{ StatusCode: number }>,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!exited) throw infraError(`HTTP probe of ${url} did not finish within ${timeoutMs / 1000}s`);
    const { stdout, stderr } = await containerOutput(
      container,
      opts.maxBodyBytes ?? DEFAULT_OUTPUT_MAX_BYTES,
    );
    return parseWgetOutput(url, stdout, stderr);
  } finally {
    await container.remove({ force: true }).catch(tolerated("removing the probe container", debugLine));
  }
}

/** The port traefik would use: `traefik.http.services.<name>.loadbalancer.server.port`. */
function proxyPort(labels: Record<string, string>): number | undefined {
  for (const [key, value] of Object.entries(labels)) {
    if (/^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port$/.test(key)) return Number(value);
  }
  return undefined;
}

/**
 * The probe's output, read after the probe exited: stderr (the response head) in full up to its
 * last `maxBytes`, stdout (the body) up to `maxBytes` from its start. The two are read as separate
 * streams because Docker logs each pipe on its own: when the body floods stdout, the head on stderr
 * can be logged after the first megabytes of body, and a shared stream cut at the body cap would
 * lose it. Reading the body stops once it is full, so an app that answers without end costs the
 * worker neither memory nor the time to read it all.
 */
async function containerOutput(
  container: Dockerode.Container,
  maxBytes: number,
): Promise<{ stdout: string; stderr: string }> {
  const head = new CappedBuffer(maxBytes, "tail");
  const body = new CappedBuffer(maxBytes, "head");
  await readLog(container, "stderr", head, false);
  await readLog(container, "stdout", body, true);
  return { stdout: body.text(), stderr: head.text() };
}

async function readLog(
  container: Dockerode.Container,
  pipe: "stdout" | "stderr",
  into: CappedBuffer,
  stopWhenFull: boolean,
): Promise<void> {
  const stream = (await container.logs({
    stdout: pipe === "stdout",
    stderr: pipe === "stderr",
    follow: true,
  })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  const frames = new FrameReader((_kind, frame) => into.push(frame));
  await new Promise<void>((resolve) => {
    stream.on("data", (chunk: Buffer) => {
      frames.push(chunk);
      if (stopWhenFull && into.truncated) {
        stream.destroy();
        resolve();
      }
    });
    stream.on("end", () => resolve());
    stream.on("close", () => resolve());
    stream.on("error", () => resolve());
  });
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
