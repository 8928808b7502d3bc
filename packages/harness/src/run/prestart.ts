import type { Tier } from "@taster/core";
import type { Plan } from "@taster/swarm";
import type { TestRow } from "../results";
import type { Live } from "./live";
import type { PreparedRun } from "./prepare";
import { runAssertions } from "./sandboxed";

/**
 * A tier's assertions (one jest process), started before their op is done: jest's start-up (a few
 * seconds) overlaps the op — or, for the custom tier, which has no op, the tier before it. Their
 * broker calls wait for `opDone`, and the tier's clock starts then.
 */
export interface StartedAssertions {
  rows: Promise<TestRow[]>;
  opDone(): void;
  /** Stops them (the op failed, or their tier will not run); resolves once jest is gone. */
  stop(why: unknown): Promise<void>;
}

export function startAssertions(
  run: PreparedRun,
  live: Live,
  tier: Tier,
  call: { budgetMs: number; plan?: Plan | undefined },
): StartedAssertions {
  const opDone = deferred();
  // The assertions subscribe only once their sandbox is set up; an op that fails sooner (e.g. the
  // engine went away) must not leave the rejection unhandled — that would end the worker process.
  opDone.promise.catch(() => undefined);
  const cancel = new AbortController();
  const files = run.customization.assertions[tier];
  const rows = runAssertions(run, live, tier, files, {
    ...call,
    gate: opDone.promise,
    cancel: cancel.signal,
  });
  // Awaited by the tier; until then a rejection (e.g. the run was interrupted) must not go unhandled.
  rows.catch(() => undefined);
  return {
    rows,
    opDone: opDone.resolve,
    async stop(why) {
      opDone.reject(why);
      cancel.abort();
      await rows.catch(() => undefined);
    },
  };
}

/** Promise.withResolvers (Node 22) for Node 20. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
