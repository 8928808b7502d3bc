import { errorMessage } from "@taster/core";
import { Queue, type QueueOptions } from "bullmq";
import { queueLog } from "./log";

/**
 * A BullMQ queue on one of Taster's fail-fast connections, made on first use and remade when it
 * was born broken.
 *
 * BullMQ sets a queue up once, when it is made (it loads its scripts and asks the server's
 * version). On a connection without an offline queue, a queue made while Redis is down keeps that
 * failed set-up for good: every later `add` rejects ("Stream isn't writeable…") long after Redis is
 * back. Anything may touch a queue first — a dashboard page, a metrics scrape, a webhook — so the
 * first touch can fall into an outage. `ready()` notices a broken set-up and starts afresh.
 */
export class QueueHandle<T = unknown> {
  private queue: Queue<T> | undefined;

  constructor(
    private readonly name: string,
    private readonly options: QueueOptions,
  ) {}

  /** The queue as it is now (made if need be); for reads whose failure is answered anyway. */
  get now(): Queue<T> {
    if (!this.queue) {
      this.queue = new Queue<T>(this.name, { ...this.options, skipWaitingForReady: true });
      // Errors surface on the calls that hit them; keep the emitter from crashing the process.
      this.queue.on("error", (error) =>
        queueLog.debug({ queue: this.name, reason: errorMessage(error) }, "queue"),
      );
    }
    return this.queue;
  }

  /**
   * The queue once its set-up succeeded. A queue whose set-up failed is dropped and one new queue is
   * tried at once (Redis may be back by now); if that fails too, the next call tries again.
   */
  async ready(): Promise<Queue<T>> {
    try {
      return await this.settled(this.now);
    } catch (error) {
      queueLog.debug(
        { queue: this.name, reason: errorMessage(error) },
        "queue set-up failed; making it afresh",
      );
      return this.settled(this.now);
    }
  }

  private async settled(queue: Queue<T>): Promise<Queue<T>> {
    try {
      await queue.waitUntilReady();
      return queue;
    } catch (error) {
      if (this.queue === queue) this.queue = undefined;
      // A queue on a shared connection closes without touching that connection.
      void queue
        .close()
        .catch((e) => queueLog.debug({ queue: this.name, reason: errorMessage(e) }, "closing"));
      throw error;
    }
  }

  async close(): Promise<void> {
    const queue = this.queue;
    this.queue = undefined;
    await queue
      ?.close()
      .catch((e) => queueLog.debug({ queue: this.name, reason: errorMessage(e) }, "closing"));
  }
}
