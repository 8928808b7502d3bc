import type { Host } from "./host";
import { FrameReader } from "./probe";

const TAIL_LINES = 20;
const MAX_CHARS = 600;

/**
 * The last lines a task's container wrote (stdout and stderr interleaved), at most `MAX_CHARS`
 * from the end: the words that say why a task failed ("column author contains null values")
 * are almost always there, and a maintainer should read them in the PR comment, not in a log.
 * Empty when the container is gone or wrote nothing.
 */
export async function lastTaskOutput(host: Host, taskId: string): Promise<string> {
  try {
    const task = (await host.docker.getTask(taskId).inspect()) as {
      Status?: { ContainerStatus?: { ContainerID?: string } };
    };
    const id = task.Status?.ContainerStatus?.ContainerID;
    if (!id) return "";
    const raw = (await host.docker
      .getContainer(id)
      .logs({ stdout: true, stderr: true, tail: TAIL_LINES })) as unknown as Buffer;
    const parts: Buffer[] = [];
    new FrameReader((_kind, bytes) => parts.push(Buffer.from(bytes))).push(raw);
    const text = Buffer.concat(parts).toString("utf8").trim();
    return text.length > MAX_CHARS ? `…${text.slice(-MAX_CHARS)}` : text;
  } catch {
    // Best effort: the verdict stands without the excerpt.
    return "";
  }
}

/** `; its last output: «…»` (lines joined by " | ") for a failure message, or nothing. */
export function withOutput(output: string): string {
  return output ? `; its last output: «${output.replace(/\s*\n\s*/g, " | ")}»` : "";
}

/** Lines and characters of a probe's output quoted in a failure: its end, where the reason is. */
const PROBE_TAIL_LINES = 2;
const PROBE_TAIL_CHARS = 200;

/**
 * The last lines of a healthcheck probe's output on one line (`a | b | c`): a Python probe prints
 * `Traceback (most recent call last):` first and the reason (`ConnectionRefusedError: …`) last.
 */
export function probeOutputTail(output: string): string {
  const lines = output
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const tail = lines.slice(-PROBE_TAIL_LINES).join(" | ");
  const cut = tail.length > PROBE_TAIL_CHARS ? `…${tail.slice(-PROBE_TAIL_CHARS)}` : tail;
  return lines.length > PROBE_TAIL_LINES && !cut.startsWith("…") ? `… ${cut}` : cut;
}
