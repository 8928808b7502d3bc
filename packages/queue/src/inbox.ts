import { errorMessage } from "@taster/core";
import type { JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { queueLog } from "./log";

/** One consumer group, one consumer name: every mover shares the pending list (see InboxMover). */
const GROUP = "movers";
const CONSUMER = "mover";
/** How many commands one read takes, and how long it waits for the first one. */
const BATCH = 100;
const BLOCK_MS = 1_000;
const RETRY_MS = 1_000;

type StreamEntry = [id: string, fields: string[] | null];

/**
 * Moves the commands the webhook answers took in (the inbox stream, one XADD each, see
 * acceptIntake-3.lua) into the BullMQ intake queue, where they are processed with retries.
 *
 * Why a stream in front of BullMQ: adding a BullMQ job costs Redis and the answering process
 * about three times what one XADD does (bench/webhooks), and the webhook's answer only needs the
 * command to be durable, not yet a job. The move is the intake role's work, off the answer's path.
 *
 * Nothing is lost: an entry is acknowledged and deleted only after its job is added, and adding is
 * idempotent (the job id is derived from the comment), so a mover that dies mid-batch leaves its
 * entries pending and whichever mover reads the pending list next adds them again harmlessly.
 * Movers share one consumer name for that reason: a restarted intake (or a peer) picks up a dead
 * one's entries without having to know its name.
 */
export class InboxMover {
  private stopped = false;
  private groupReady = false;
  private readonly done: Promise<void>;

  constructor(
    /** A connection of its own: the reads block. */
    private readonly connection: Redis,
    private readonly inbox: string,
    private readonly queue: () => Promise<Queue>,
    private readonly jobOptions: JobsOptions,
  ) {
    this.done = this.run();
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** Ends the blocked read at once; a batch cut short stays pending and is moved by the next mover. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.connection.disconnect();
    await this.done;
  }

  private async run(): Promise<void> {
    // "0": the pending list first (entries a mover took and did not finish), then new ones.
    let from = "0";
    while (!this.stopped) {
      try {
        await this.ensureGroup();
        const entries = await this.read(from);
        if (entries.length > 0) await this.move(entries);
        // Keep reading a list while it gives entries; when it runs dry, switch: the pending list is
        // read until empty (it answers at once), then new entries are waited for, and a wait that
        // brought nothing is a good moment to look at the pending list again (a peer may have died).
        if (entries.length === 0) from = from === "0" ? ">" : "0";
      } catch (error) {
        if (this.stopped) break;
        // Redis came back empty (restarted without its data): the group is made again.
        if (errorMessage(error).includes("NOGROUP")) this.groupReady = false;
        queueLog.warn({ reason: errorMessage(error) }, "intake inbox: could not move commands; trying again");
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** The group is made with the stream, from its first entry: nothing written before is skipped. */
  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    await this.connection.xgroup("CREATE", this.inbox, GROUP, "0", "MKSTREAM").catch((error: Error) => {
      if (!error.message.includes("BUSYGROUP")) throw error;
    });
    this.groupReady = true;
  }

  private async read(from: string): Promise<StreamEntry[]> {
    const reply = (await this.connection.xreadgroup(
      "GROUP",
      GROUP,
      CONSUMER,
      "COUNT",
      BATCH,
      "BLOCK",
      BLOCK_MS,
      "STREAMS",
      this.inbox,
      from,
    )) as [string, StreamEntry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  private async move(entries: StreamEntry[]): Promise<void> {
    const jobs = entries.flatMap(([entryId, fields]) => {
      const job = fields ? this.jobOf(fields) : undefined; // null: deleted meanwhile, already moved
      if (!job && fields)
        queueLog.error({ entryId }, "intake inbox: an entry that is not a command was dropped");
      return job ? [job] : [];
    });
    if (jobs.length > 0) await (await this.queue()).addBulk(jobs);
    const ids = entries.map(([entryId]) => entryId);
    await this.connection
      .multi()
      .xack(this.inbox, GROUP, ...ids)
      .xdel(this.inbox, ...ids)
      .exec();
  }

  private jobOf(fields: string[]): { name: string; data: unknown; opts: JobsOptions } | undefined {
    const { id: jobId, item } = entryFields(fields);
    try {
      return jobId && item
        ? { name: "comment", data: JSON.parse(item), opts: { ...this.jobOptions, jobId } }
        : undefined;
    } catch {
      return undefined;
    }
  }
}

/** An inbox entry's flat field list (`id`, the intake id; `item`, the command's JSON) as a record. */
export function entryFields(fields: string[]): Partial<Record<"id" | "item", string>> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i] as string] = fields[i + 1] as string;
  return out;
}
