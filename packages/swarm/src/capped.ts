/**
 * Byte caps for what Taster reads out of a deployment (exec output, container logs, archives):
 * a recipe's container can write without end, the worker's memory cannot hold it.
 */

/** Default cap of each output stream of an exec or a container's logs. */
export const DEFAULT_OUTPUT_MAX_BYTES = 4 * 1024 * 1024;

/** Human-readable size, for messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/**
 * Collects at most `maxBytes` of a stream: the first ones (`head`, for data read from its start,
 * like an HTTP body) or the last ones (`tail`, for output whose end says what happened). The
 * text says where bytes were dropped and how many.
 */
export class CappedBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly keep: "head" | "tail",
  ) {}

  get truncated(): boolean {
    return this.dropped > 0;
  }

  push(chunk: Buffer): void {
    if (this.keep === "head") {
      const room = Math.max(0, this.maxBytes - this.kept);
      if (room < chunk.length) this.dropped += chunk.length - room;
      if (room > 0) this.add(room < chunk.length ? chunk.subarray(0, room) : chunk);
      return;
    }
    this.add(chunk);
    while (this.kept > this.maxBytes) {
      const first = this.chunks[0] as Buffer;
      const excess = this.kept - this.maxBytes;
      if (first.length <= excess) {
        this.chunks.shift();
        this.kept -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.kept -= excess;
        this.dropped += excess;
      }
    }
  }

  text(): string {
    const body = Buffer.concat(this.chunks).toString("utf8");
    if (!this.dropped) return body;
    const note = `[taster: ${formatBytes(this.dropped)} of output dropped, only the ${this.keep === "head" ? "first" : "last"} ${formatBytes(this.maxBytes)} kept]`;
    return this.keep === "head" ? `${body}\n${note}` : `${note}\n${body}`;
  }

  private add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.kept += chunk.length;
  }
}
