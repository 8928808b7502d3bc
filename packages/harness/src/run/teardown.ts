import { errorMessage, tolerated } from "@taster/core";
import { engineProblem, type Host, teardownStack, untilEngineBack } from "@taster/swarm";
import type { Session } from "./session";

/** How long teardown waits for an engine that went away before leaving the residue to the janitor. */
const ENGINE_BACK_MS = 90_000;

/**
 * Gives back everything the run holds, whatever step it stopped at: the broker, the stack, the
 * host connection, the workspace, the sandbox slot. Returns the stack's residue (empty: clean).
 */
export async function teardown(session: Session): Promise<string[]> {
  const { held } = session;
  await held.live?.stop();
  const stack = session.record.names.stack;
  let residue: string[] = [];
  if (held.host && stack) residue = await removeStack(session, held.host, stack);
  const say = (line: string) => session.log.detail(`teardown: ${line}`);
  await held.host?.close().catch(tolerated("closing the host connection", say));
  await held.workspace?.cleanup().catch(tolerated("removing the workspace", say));
  await held.slot?.release().catch(tolerated("releasing the sandbox slot", say));
  return residue;
}

async function removeStack(session: Session, host: Host, stack: string): Promise<string[]> {
  const { log } = session;
  log.event("teardown", `removing stack ${stack}`);
  let residue = await removeOnce(host, stack);
  const problem = residue.length > 0 ? await engineProblem(host) : undefined;
  if (problem) {
    // The engine restarted or the link dropped: what is left is still there once it is back.
    log.event("teardown", `${problem}; waiting up to ${ENGINE_BACK_MS / 1000}s for it to come back`);
    if (await untilEngineBack(host, ENGINE_BACK_MS)) residue = await removeOnce(host, stack);
  }
  log.event("teardown", residue.length === 0 ? "zero residue" : `RESIDUE: ${residue.join(", ")}`);
  return residue;
}

async function removeOnce(host: Host, stack: string): Promise<string[]> {
  try {
    return (await teardownStack(host, stack)).residue;
  } catch (error) {
    return [`teardown failed: ${errorMessage(error)}`];
  }
}
