import { errorMessage, type TasterError } from "@taster/core";
import { buildResults, safeResults } from "./outputs";
import type { Session } from "./session";

/**
 * Hands the verdict to the caller's onVerdict hook as soon as the tiers end: the maintainer reads
 * it while the stack is still being torn down. The teardown's outcome amends it afterwards (the
 * results runRecipe returns). A hook that fails costs the early verdict, never the run.
 */
export async function announceVerdict(
  session: Session,
  startedAt: Date,
  failure: TasterError | null,
): Promise<void> {
  const hook = session.opts.onVerdict;
  if (!hook) return;
  try {
    const results = safeResults(
      session,
      buildResults(session, { startedAt, failure, residue: [], teardownMs: 0 }),
    );
    session.log.event("verdict", `${results.outcome.toUpperCase()} level ${results.level}; tearing down`);
    await hook(results);
  } catch (error) {
    session.log.detail(`verdict not announced before teardown: ${errorMessage(error)}`);
  }
}
