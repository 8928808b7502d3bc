import type { Tier } from "@taster/core";

/** A commit status's state, as GitHub and Gitea both name them. */
export type CommitState = "pending" | "success" | "failure" | "error";

/** One status line on a commit; the worker publishes them, the outbox posts them, the forge writes them. */
export interface CommitStatus {
  /** `taster` (summary) or `taster/<tier>`: one status line per context on the commit. */
  context: string;
  state: CommitState;
  /** At most 140 chars (GitHub's limit). */
  description: string;
  targetUrl?: string;
  /**
   * The longer story a check run shows (GitHub as an App); a plain commit status ignores it.
   * `conclusion` overrides the one derived from `state` (e.g. `cancelled` for a superseded run).
   */
  output?: StatusOutput;
  /**
   * Only a check run shows this line; a commit-status forge skips it. `open`: a tier's check run in
   * progress (created when the run starts); `close`: completes that check run if it exists (a run
   * that ends without a verdict: cancelled, configuration error), never creates one.
   */
  checkRunOnly?: "open" | "close";
}

export interface StatusOutput {
  title: string;
  /** Markdown, at most 65 535 chars. */
  summary: string;
  text?: string;
  conclusion?: "cancelled" | "neutral";
}

/** The summary status's context. */
export const SUMMARY_CONTEXT = "taster";
export const tierContext = (tier: Tier): string => `taster/${tier}`;
