/** The comment-fit policy and the marker are @taster/report's; the adapters apply them here. */
export { fitComment, isSticky, STICKY_MARKER, stickyBody } from "@taster/report";

/** Serialises sticky-comment updates per PR so two updates in one process never create two comments. */
export class PerKeyLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    // The previous update's failure is its caller's to handle; this one runs after it either way.
    const next = previous.catch(() => {}).then(work);
    this.tails.set(key, next);
    void next
      .finally(() => {
        if (this.tails.get(key) === next) this.tails.delete(key);
      })
      // `next` is returned: its rejection reaches the caller; this chain only must not be unhandled.
      .catch(() => {});
    return next;
  }
}
