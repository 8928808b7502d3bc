import { STAGES, TIERS } from "@taster/core";
import { z } from "zod";

/** Hosts name queues and BullMQ job ids may not contain ':' — keep both to [a-z0-9-]. */
const SLUG = /^[a-z0-9][a-z0-9-]*$/;

/** One `!testme` run as queued for a host's worker. */
export const RunJobSchema = z.object({
  runId: z.string().regex(SLUG, "runId must be [a-z0-9-]"),
  forge: z.enum(["github", "gitea"]),
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "repo must be owner/name"),
  pr: z.number().int().positive(),
  sha: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "sha must be a full commit id, never a branch"),
  recipe: z.string().min(1),
  stages: z.array(z.enum(STAGES)).min(1),
  host: z.string().regex(SLUG, "host must be [a-z0-9-]"),
  commentId: z.number().int().nonnegative(),
  deliveryId: z.string().min(1),
  requestedBy: z.string().min(1),
  requestedAt: z.string().datetime(),
  /** The webhook payload's clone URL: the worker fetches from it only when it is on its configured forge host. */
  cloneUrl: z.string().max(500).optional(),
  /** `!testme failed`: this run re-checks the tiers that failed in run `runId` on the same commit. */
  recheckOf: z.object({ runId: z.string().regex(SLUG), tiers: z.array(z.enum(TIERS)).min(1) }).optional(),
  /** `!testme quick`: the run upgrades a copy of the recipe's warm known-good (docs/sweep.md). */
  quick: z.literal(true).optional(),
});

export type RunJob = z.infer<typeof RunJobSchema>;

/** What the bridge asks for; the run id is assigned when the request is accepted. */
export type RunRequest = Omit<RunJob, "runId">;
