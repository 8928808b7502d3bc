import { createHash } from "node:crypto";

/** What identifies one run: a repository, a pull request (0 = none) and the exact commit. */
export interface RunKey {
  repo: string;
  pr: number;
  sha: string;
}

const shortHash = (text: string, length: number): string =>
  createHash("sha256").update(text).digest("hex").slice(0, length);

/**
 * Swarm object names are limited to ~63 chars and are `<stack>_<name>`, so a stack name must be
 * short and deterministic: "t" + 10 hex chars of the run key leaves room for any service name.
 */
export function stackNameFor(key: RunKey): string {
  return `t${shortHash(`${key.repo}#${key.pr}@${key.sha}`, 10)}`;
}

/** Suffix of the fresh tier's own stack: `<run stack>-fresh`, so every name of a run starts with its stack. */
export const FRESH_SUFFIX = "-fresh";
export const freshStackOf = (stack: string): string => `${stack}${FRESH_SUFFIX}`;
/** The run's main stack for any of its stacks (the fresh one belongs to the same run). */
export const runStackOf = (stack: string): string =>
  stack.endsWith(FRESH_SUFFIX) ? stack.slice(0, -FRESH_SUFFIX.length) : stack;

/** The test domain of a run; never resolvable outside the stack network, never a real site. */
export function domainFor(key: RunKey, base = "taster.test"): string {
  return `${stackNameFor(key)}.${base}`;
}

/** BullMQ job ids may not contain ':' — keep to [a-z0-9-]. */
export function runIdFor(key: RunKey): string {
  return `${stackNameFor(key)}-${key.sha.slice(0, 12)}`;
}
