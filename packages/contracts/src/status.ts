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
}

/** The summary status's context. */
export const SUMMARY_CONTEXT = "taster";
export const tierContext = (tier: Tier): string => `taster/${tier}`;
