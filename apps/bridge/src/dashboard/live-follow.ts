import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import type { LogEntry, RunLog, RunStore } from "@taster/queue";
import { FINISHED } from "./view";

/** Stream entries per read; a longer backlog is read in several. */
export const BATCH = 1_000;
/** A comment line after this much silence keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/**
 * Writing to a socket costs ~10 µs, so one line to 1000 viewers holds the event loop for 10 ms or
 * more: clients are written to in slices, with a turn of the event loop between slices, so webhook
 * answers are never queued behind a whole fan-out.
 */
const SLICE = 50;
/**
 * Lines that arrive within this of the last fan-out wait and go out together: a chatty run costs
 * at most ~10 fan-outs a second, whatever its line rate; viewers see lines at most this late.
 */
const MIN_FAN_OUT_INTERVAL_MS = 100;

/** One log line as clients get it: its stream id and its event text, rendered once for all of them. */
interface Chunk {
  id: string;
  text: string;
}

/** Where a follower's lines go: one open event stream. */
export interface LiveClient {
  write(text: string): void;
  /** The run ended (`state`), or the stream has to stop (no state: the client reconnects and resumes). */
  end(state?: string): void;
}

export interface FollowDeps {
  runs: RunStore;
  logs: RunLog;
  /** How long one blocking read waits for a line before the follower checks whether the run ended. */
  blockMs: number;
  /** A log line as an event, redacted (see live-log.ts). */
  render(entry: LogEntry): string;
}

/** Redis stream ids (`<ms>-<seq>`) in stream order. */
export function compareIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const byMs = BigInt(am) - BigInt(bm);
  const diff = byMs !== 0n ? byMs : BigInt(as) - BigInt(bs);
  return diff === 0n ? 0 : diff > 0n ? 1 : -1;
}

const after = (id: string, cursor: string | undefined) => cursor === undefined || compareIds(id, cursor) > 0;

/** One client of a follower: what it was last sent, and what waits while it catches up. */
class Subscription {
  /** Live chunks held back while the client replays the backlog; undefined once it is live. */
  pending: Chunk[][] | undefined;
  /** The run ended while the client was catching up. */
  endedAs: string | undefined;

  constructor(
    readonly client: LiveClient,
    public sent: string | undefined,
  ) {}

  push(chunks: Chunk[], joined: string): void {
    if (this.pending) {
      this.pending.push(chunks);
      return;
    }
    const first = chunks[0];
    if (!first) return;
    // Caught-up clients (nearly all) get the text joined once for everyone.
    const fresh = after(first.id, this.sent) ? joined : chunks.filter((c) => after(c.id, this.sent));
    if (typeof fresh === "string") this.client.write(fresh);
    else if (fresh.length > 0) this.client.write(fresh.map((c) => c.text).join(""));
    this.sent = chunks.at(-1)?.id ?? this.sent;
  }

  /** Ends the catch-up: what arrived meanwhile, then the end if it came. */
  goLive(): void {
    const held = this.pending ?? [];
    this.pending = undefined;
    for (const chunks of held) this.push(chunks, chunks.map((c) => c.text).join(""));
    if (this.endedAs !== undefined) this.client.end(this.endedAs);
  }

  end(state?: string): void {
    if (this.pending && state !== undefined) this.endedAs = state;
    else this.client.end(state);
  }
}

/**
 * The one reader of one live run's log: a blocking XREAD on a connection of its own, whatever the
 * number of clients, each line rendered once and written to every client. While no line comes it
 * checks the run's state once per `blockMs`; once the run is finished it reads what is left and
 * ends every client with the final state.
 */
class Follower {
  readonly subscriptions = new Set<Subscription>();
  /** Ending its clients: a client arriving now needs a follower of its own. */
  ending = false;
  private stopped = false;
  private reader: ReturnType<RunLog["openReader"]> | undefined;

  constructor(
    readonly runId: string,
    /** The last id read; clients joining later replay up to it, then get what follows live. */
    public cursor: string | undefined,
    private readonly deps: FollowDeps,
    private readonly gone: (follower: Follower) => void,
  ) {}

  async run(): Promise<void> {
    const reader = this.deps.logs.openReader(this.runId);
    this.reader = reader;
    let lastBeat = Date.now();
    let lastFanOut = 0;
    try {
      while (!this.stopped) {
        const wait = lastFanOut + MIN_FAN_OUT_INTERVAL_MS - Date.now();
        if (wait > 0) await sleep(wait);
        const entries = await reader.next(this.cursor, this.deps.blockMs, BATCH);
        if (this.stopped) break;
        if (entries.length > 0) {
          lastFanOut = Date.now();
          await this.deliver(entries);
          lastBeat = Date.now();
          continue;
        }
        // The worker writes its last line before it stores the verdict: once the state is
        // finished, one more read holds every line.
        const state = (await this.deps.runs.getRun(this.runId))?.state;
        if (this.stopped) break;
        if (state === undefined || FINISHED.has(state)) {
          await this.drain();
          await this.finish(state ?? "gone");
          break;
        }
        if (Date.now() - lastBeat >= HEARTBEAT_MS) {
          await this.forEachSliced((s) => s.client.write(": still running\n\n"));
          lastBeat = Date.now();
        }
      }
    } catch {
      // Redis went away: end the streams; browsers reconnect and resume from their last line.
      if (!this.stopped) await this.finish(undefined);
    } finally {
      reader.close();
      this.stop();
    }
  }

  add(subscription: Subscription): void {
    this.subscriptions.add(subscription);
  }

  remove(subscription: Subscription): void {
    this.subscriptions.delete(subscription);
    if (this.subscriptions.size === 0) this.stop();
  }

  /** Stops reading (no client left, the run ended, or shutdown); the map forgets it at once. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reader?.close();
    this.gone(this);
  }

  private async drain(): Promise<void> {
    for (;;) {
      const rest = await this.deps.logs.readLog(this.runId, this.cursor, BATCH);
      if (rest.length > 0) await this.deliver(rest);
      if (rest.length < BATCH) return;
    }
  }

  /**
   * Renders the lines once and writes them to every client. The cursor moves first: a client that
   * joins during the fan-out replays up to it and is not in the list being written to.
   */
  private async deliver(entries: LogEntry[]): Promise<void> {
    const chunks = entries.map((entry) => ({ id: entry.id, text: this.deps.render(entry) }));
    const joined = chunks.map((c) => c.text).join("");
    this.cursor = chunks.at(-1)?.id ?? this.cursor;
    await this.forEachSliced((s) => s.push(chunks, joined));
  }

  /** Calls `write` for every client there is now and still is when its slice comes. */
  private async forEachSliced(write: (s: Subscription) => void): Promise<void> {
    const all = [...this.subscriptions];
    for (let i = 0; i < all.length; i += SLICE) {
      if (i > 0) await nextTurn();
      for (const s of all.slice(i, i + SLICE)) if (this.subscriptions.has(s)) write(s);
    }
  }

  /** Ends every client (sliced too: ending a response costs about what a write does). */
  private async finish(state: string | undefined): Promise<void> {
    this.ending = true;
    await this.forEachSliced((s) => {
      this.subscriptions.delete(s);
      s.end(state);
    });
  }
}

/**
 * Live runs' logs fanned out: at most one Follower (one Redis reader) per run, shared by every
 * client following that run, started by its first client and stopped with its last.
 */
export class LiveLogHub {
  private readonly followers = new Map<string, Follower>();

  constructor(private readonly deps: FollowDeps) {}

  /** Runs being read right now (one Redis connection each). */
  get readers(): number {
    return this.followers.size;
  }

  /**
   * Follows `runId` for `client` from just after `from` (the start when undefined): lines up to
   * where the run's follower already is are replayed from the stream for this client alone, the
   * rest arrive live. Returns how to leave.
   */
  async join(runId: string, from: string | undefined, client: LiveClient): Promise<() => void> {
    const subscription = new Subscription(client, from);
    const existing = this.followers.get(runId);
    if (!existing || existing.ending) {
      // A new follower starts reading where its first client is.
      const follower = new Follower(runId, from, this.deps, (f) => this.forget(f));
      this.followers.set(runId, follower);
      follower.add(subscription);
      void follower.run();
      return () => follower.remove(subscription);
    }
    const upTo = existing.cursor;
    const behind = upTo !== undefined && after(upTo, from);
    if (behind) subscription.pending = [];
    existing.add(subscription);
    const leave = () => existing.remove(subscription);
    if (!behind || upTo === undefined) return leave;
    try {
      subscription.sent = await replay(this.deps, runId, from, upTo, (text) => client.write(text));
    } catch (error) {
      leave();
      throw error;
    }
    subscription.goLive();
    return leave;
  }

  /** Ends every stream (shutdown): clients reconnect elsewhere and resume. */
  close(): void {
    for (const follower of [...this.followers.values()]) {
      for (const s of [...follower.subscriptions]) s.client.end();
      follower.stop();
    }
  }

  private forget(follower: Follower): void {
    if (this.followers.get(follower.runId) === follower) this.followers.delete(follower.runId);
  }
}

/**
 * Writes the lines after `from` up to and including `upTo` (to the end when undefined) as
 * events; returns the last id written (`from` when none).
 */
export async function replay(
  deps: Pick<FollowDeps, "logs" | "render">,
  runId: string,
  from: string | undefined,
  upTo: string | undefined,
  write: (text: string) => void,
  stopped: () => boolean = () => false,
): Promise<string | undefined> {
  let cursor = from;
  while (!stopped()) {
    const entries = await deps.logs.readLog(runId, cursor, BATCH, upTo);
    if (entries.length > 0) write(entries.map((e) => deps.render(e)).join(""));
    cursor = entries.at(-1)?.id ?? cursor;
    if (entries.length < BATCH) break;
  }
  return cursor;
}
