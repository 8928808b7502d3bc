/**
 * The one comment-fit policy: a forge refuses a comment over its limit, and Taster's sticky comment
 * carries a hidden marker line the limit counts too. Renderers shrink their detail to `stickyRoom`;
 * the forge adapters call `stickyBody`, which adds the marker and, only for a body that still does
 * not fit, cuts it and says so.
 */

/** The hidden marker that identifies Taster's one status comment on a PR. */
export const STICKY_MARKER = "<!-- taster:status -->";

/** GitHub's limit for a comment body; Gitea's is larger, so this one bounds both. */
export const COMMENT_LIMIT = 65_536;

/** What a cut comment ends with when its renderer has nothing better to point to. */
export const CUT_NOTE = "\n\n…(cut to fit the forge's comment limit; the full report is on the run page)";

/** Room left for a sticky comment's body once the marker line is added. */
export const stickyRoom = (limit = COMMENT_LIMIT): number => limit - STICKY_MARKER.length - 1;

/** `body` as is when it fits `limit`, else cut with `note` at the end (the result is exactly `limit` long). */
export function fitComment(body: string, limit = COMMENT_LIMIT, note = CUT_NOTE): string {
  if (body.length <= limit) return body;
  return body.slice(0, limit - note.length) + note;
}

/** The marker first, then the body, within the forge's limit counting the marker. */
export function stickyBody(body: string, limit = COMMENT_LIMIT): string {
  return fitComment(`${STICKY_MARKER}\n${body}`, limit);
}

export const isSticky = (body: string | undefined | null): boolean => !!body?.includes(STICKY_MARKER);
