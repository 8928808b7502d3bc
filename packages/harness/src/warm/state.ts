/**
 * What a run learns for its warm known-good as it goes: the known-good it was seeded from, and the
 * value of every secret it created (a known-good's data was written with them). Held beside the
 * run's record, not in it: never in results.json, never in a log.
 */
import type { KnownGood } from "@taster/swarm";
import type { Session } from "../run/session";

export interface WarmState {
  seed: KnownGood | null;
  /** `<name>_<version>` → value, for every secret this run's stack was given. */
  secrets: Record<string, string>;
}

const states = new WeakMap<object, WarmState>();

/** The run's warm state (the run's record is the same object in its session and prepared run). */
export function warmState(session: Pick<Session, "record">): WarmState {
  let state = states.get(session.record);
  if (!state) {
    state = { seed: null, secrets: {} };
    states.set(session.record, state);
  }
  return state;
}
