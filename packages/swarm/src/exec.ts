import { PassThrough } from "node:stream";
import { infraError, TasterError } from "@taster/core";
import type Dockerode from "dockerode";
import { CappedBuffer, DEFAULT_OUTPUT_MAX_BYTES } from "./capped";
import type { Host } from "./host";
import { runningContainers } from "./tasks";

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  /** Limit for one exec once it runs (default 60 s). */
  timeoutMs?: number;
  /** How long to keep retrying while the service has no usable container (default 60 s). */
  retryForMs?: number;
  /** Bytes kept of each of stdout and stderr: the last ones, after a note of what was dropped (default 4 MiB). */
  maxOutputBytes?: number;
}

const RETRY_PAUSE_MS = 300;

/** The exec could not run (or was cut short) because the container is being replaced: try again. */
class ContainerUnavailable extends Error {}

/** The exec ran past its time limit; its process may still be running in the container. */
export class ExecTimeout extends TasterError {
  constructor(message: string) {
    super("infra", message);
  }
}

/**
 * Runs argv in a running container of `<stack>_<service>` and returns its real output. While the
 * service's container is being replaced it retries; it never returns output from an exec that did
 * not run to completion in a container that stayed up — it throws after the retry budget instead.
 */
export async function execInService(
  host: Host,
  stack: string,
  service: string,
  argv: string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  return withRunningContainer(host, stack, service, opts.retryForMs, (container) =>
    execInContainer(host, container, argv, opts),
  );
}

/**
 * Calls `use` with a running container of the service, retrying while there is none or while it
 * disappears under `use` (404/409 from the engine, or the container stopped meanwhile).
 */
export async function withRunningContainer<T>(
  host: Host,
  stack: string,
  service: string,
  retryForMs = 60_000,
  use: (container: Dockerode.Container) => Promise<T>,
): Promise<T> {
  const fullName = `${stack}_${service}`;
  const deadline = Date.now() + retryForMs;
  let lastReason = "no running task";
  for (;;) {
    const [id] = await runningContainers(host, fullName).catch((error: { statusCode?: number }) => {
      if (error.statusCode === 404) throw infraError(`service ${fullName} does not exist`, error);
      throw error;
    });
    if (id) {
      const container = host.docker.getContainer(id);
      try {
        const result = await use(container);
        if (await stillRunning(container)) return result;
        lastReason = `container ${id.slice(0, 12)} stopped while in use`;
      } catch (error) {
        if (!isContainerUnavailable(error)) throw error;
        lastReason = error instanceof Error ? error.message : String(error);
      }
    }
    if (Date.now() >= deadline) {
      throw infraError(
        `no usable container of ${fullName} within ${retryForMs / 1000}s (last: ${lastReason})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
  }
}

/** Whether an exec failed because its container went away (or is going): another may do. */
export function isContainerUnavailable(error: unknown): boolean {
  if (error instanceof ContainerUnavailable) return true;
  const status = (error as { statusCode?: number }).statusCode;
  return status === 404 || status === 409;
}

async function stillRunning(container: Dockerode.Container): Promise<boolean> {
  try {
    return (await container.inspect()).State.Running;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

/** How long output may trail the engine's "exited" over a tunnel that lost the stream's end. */
const TRAILING_OUTPUT_MS = 5_000;

/**
 * One exec in one container, to its end: its output (each stream capped; stdout keeps its last
 * bytes unless `keepStdout` says "head", as for an HTTP body) and exit code. Throws
 * ContainerUnavailable (see isContainerUnavailable) if the container went away under it.
 */
export async function execInContainer(
  host: Host,
  container: Dockerode.Container,
  argv: string[],
  opts: Pick<ExecOptions, "timeoutMs" | "maxOutputBytes"> & { keepStdout?: "head" | "tail" } = {},
): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const maxOutputBytes = opts.maxOutputBytes ?? DEFAULT_OUTPUT_MAX_BYTES;
  const exec = await container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const stdout = collect(maxOutputBytes, opts.keepStdout ?? "tail");
  const stderr = collect(maxOutputBytes, "tail");
  host.docker.modem.demuxStream(stream, stdout.sink, stderr.sink);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(watch);
      (stream as { destroy?: () => void }).destroy?.();
      reject(new ExecTimeout(`exec ${argv.join(" ")} did not finish within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      clearInterval(watch);
      resolve();
    };
    // Over an SSH tunnel (docker system dial-stdio) the hijacked stream's end is sometimes never
    // passed on although the process has exited: ask the engine, and once it says the exec is
    // over, give trailing output time to arrive (a busy tunnel delivers it seconds late; the
    // stream's end, when it comes, finishes sooner).
    const watch = setInterval(() => {
      exec.inspect().then(
        (info) => {
          if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) {
            clearInterval(watch);
            setTimeout(done, TRAILING_OUTPUT_MS);
          }
        },
        () => {},
      );
    }, 1_000);
    stream.on("end", done);
    stream.on("close", done);
    stream.on("error", (error: Error) => {
      clearTimeout(timer);
      clearInterval(watch);
      reject(new ContainerUnavailable(`exec stream failed: ${error.message}`));
    });
  });
  const info = await exec.inspect();
  // An exec whose process never ran, or is somehow still running, has no result to give.
  if (info.Running || info.ExitCode === null || info.ExitCode === undefined) {
    throw new ContainerUnavailable("exec did not complete");
  }
  return { stdout: stdout.text(), stderr: stderr.text(), exitCode: info.ExitCode };
}

/** A sink for one demuxed stream that keeps only `maxBytes` of it (a container can print without end). */
function collect(maxBytes: number, keep: "head" | "tail"): { sink: PassThrough; text: () => string } {
  const kept = new CappedBuffer(maxBytes, keep);
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => kept.push(chunk));
  return { sink, text: () => kept.text() };
}
