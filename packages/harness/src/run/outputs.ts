import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Redactor, type TasterError, TIERS, type Tier } from "@taster/core";
import {
  levelOf,
  RESULTS_SCHEMA_VERSION,
  type Results,
  skippedTier,
  type TierResult,
  validateResults,
  verdictOf,
} from "../results";
import type { Session } from "./session";

/** How the run ended, as far as outputs care (the rest is in the session's record). */
export interface Ending {
  startedAt: Date;
  failure: TasterError | null;
  residue: string[];
  teardownMs: number;
}

/** results.json's object for a run that ended anywhere: what it did not reach is "not run". */
export function buildResults(session: Session, end: Ending): Results {
  const { record, opts } = session;
  const reason = end.failure ? `not run: ${end.failure.message}` : "not run";
  const tiers = Object.fromEntries(TIERS.map((t) => [t, record.tiers[t] ?? skippedTier(reason)])) as Record<
    Tier,
    TierResult
  >;
  const verdict = verdictOf(tiers, [record.lint ?? undefined, record.fresh?.result]);
  const residue = [...end.residue, ...(record.fresh?.residue ?? [])];
  const errored = end.failure !== null && end.failure.kind !== "recipe" && end.failure.kind !== "test";
  const finishedAt = new Date();
  const backup = session.held.live?.app.backup;
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    recipe: session.recipe,
    repo: opts.source,
    pr: opts.pr ?? 0,
    ...record.names,
    // A head that does not install from scratch proved nothing a first install would see.
    level: record.fresh?.result.status === "fail" ? 0 : levelOf(tiers),
    outcome: errored ? "error" : end.failure || verdict === "fail" ? "fail" : "pass",
    ...(end.failure ? { error: end.failure.message } : {}),
    ...(errored ? { errorKind: end.failure?.kind === "config" ? "config" : "infra" } : {}),
    versions: { ...record.versions },
    tiers,
    ...(record.lint ? { lint: record.lint } : {}),
    ...(record.fresh ? { fresh: record.fresh.result } : {}),
    ...(opts.recheckOf ? { recheck: recheckOf(opts.recheckOf, tiers) } : {}),
    timings: {
      startedAt: end.startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      totalMs: finishedAt.getTime() - end.startedAt.getTime(),
      deployMs: record.deployMs,
      teardownMs: end.teardownMs,
    },
    manifest: record.manifest,
    backup: backup ? { size: backup.size, sha256: backup.sha256, entries: backup.entries } : null,
    residue,
    flags: {
      // This run's deploys of its stack (the ledger is the run's own), the upgrade's not included.
      deployCount: session.ledger.count(record.names.stack) - record.upgradeRedeploys,
      upgradeRedeploys: record.upgradeRedeploys,
      ...(record.fresh ? { freshDeploys: record.fresh.deploys } : {}),
      cleanTeardown: residue.length === 0,
      noSecretLeak: true, // set once redacted (writeOutputs)
    },
  };
}

/** Each re-checked tier: red again, green this time, or not run (skipped, n/a, errored). */
function recheckOf(
  of: { runId: string; tiers: Tier[] },
  tiers: Record<Tier, TierResult>,
): Results["recheck"] {
  const word = (t: TierResult) =>
    t.status === "fail" ? "red-again" : t.status === "pass" ? "green" : "not-run";
  return { of: of.runId, tiers: Object.fromEntries(of.tiers.map((t) => [t, word(tiers[t])])) };
}

/**
 * results.json and run.log leave the process only redacted. noSecretLeak is false when any output
 * of the run (log lines, test output, results) carried a secret value that had to be masked.
 * Returns the results as written.
 */
export async function writeOutputs(session: Session, results: Results): Promise<Results> {
  const { log, opts } = session;
  const safe = safeResults(session, results);
  log.event(
    "result",
    `${safe.outcome.toUpperCase()} level ${safe.level}, deployCount ${safe.flags.deployCount}, residue ${safe.residue.length}`,
  );
  if (opts.outDir) {
    const path = join(opts.outDir, "results.json");
    await writeFile(path, `${JSON.stringify(safe, null, 2)}\n`);
    await chmod(path, 0o644);
  }
  await log.close();
  return safe;
}

/** The results as they may leave the process: redacted, the leak flag set, validated. */
export function safeResults(session: Session, results: Results): Results {
  const { redactor } = session;
  const redacted = redactDeep(redactor, results) as Results;
  // Read after redacting the results themselves: a secret in them counts as a leak too.
  redacted.flags.noSecretLeak = !redactor.foundLeak;
  return validateResults(redacted);
}

/** A copy with every string (keys too) redacted: secrets are masked wherever they sit. */
function redactDeep(redactor: Redactor, value: unknown): unknown {
  if (typeof value === "string") return redactor.redact(value);
  if (Array.isArray(value)) return value.map((item) => redactDeep(redactor, item));
  if (value && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => [redactor.redact(k), redactDeep(redactor, v)]);
    return Object.fromEntries(entries);
  }
  return value;
}
