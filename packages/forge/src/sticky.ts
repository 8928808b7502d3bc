/** The hidden marker that identifies Taster's one status comment on a PR. */
export const STICKY_MARKER = "<!-- taster:status -->";

/** GitHub's limit; Gitea's is larger. */
export const MAX_COMMENT_CHARS = 65_536;

/** The marker first, then the body, cut to fit the forge's limit with a note saying so. */
export function stickyBody(body: string): string {
  return fitComment(`${STICKY_MARKER}\n${body}`);
}

export function fitComment(body: string): string {
  if (body.length <= MAX_COMMENT_CHARS) return body;
  const note = "\n\n…(cut to fit the forge's comment limit; the full report is on the run page)";
  return body.slice(0, MAX_COMMENT_CHARS - note.length) + note;
}

export const isSticky = (body: string | undefined | null): boolean => !!body?.includes(STICKY_MARKER);

/** Serialises sticky-comment updates per PR so two updates in one process never create two comments. */
export class PerKeyLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    this.tails.set(key, next);
    void next
      .finally(() => {
        if (this.tails.get(key) === next) this.tails.delete(key);
      })
      .catch(() => {});
    return next;
  }
}
