import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage, Redactor, type Stage, TasterError, TIERS, type Tier } from "@taster/core";
import { recipeNameFrom, type Workspace } from "@taster/recipe";
import { DeployLedger, type Host } from "@taster/swarm";
import type { LiveRun } from "../backend";
import type { LintResult, Manifest, TierResult } from "../results";
import { RunLog } from "../runlog";
import type { SandboxSlot } from "../sandbox";
import type { RunOptions } from "./options";

/**
 * What results.json says about a run, learned step by step. Every field has the value the results
 * carry for a run that stopped before learning it ("" or null), so a run that fails anywhere still
 * reports what it knew.
 */
export interface RunRecord {
  readonly names: { sha: string; stack: string; domain: string; host: string };
  readonly versions: { base: string | null; head: string; baseReason: string };
  manifest: Manifest | null;
  lint: LintResult | null;
  readonly tiers: Partial<Record<Tier, TierResult>>;
  fresh: FreshOutcome | null;
  /** Time spent in `docker stack deploy` + convergence of the main stack. */
  deployMs: number;
  /** Deploys of the main stack that were the upgrade (not counted as a second installation). */
  upgradeRedeploys: number;
}

/** What the fresh stage (ops/fresh.ts) found, kept apart from the main deployment's tiers. */
export interface FreshOutcome {
  result: TierResult;
  /** Deployments of the fresh stack (1 when it ran): counted apart from the main deployCount. */
  deploys: number;
  residue: string[];
}

/**
 * The live deployment (live.ts) as teardown and the results see it. Declared here, not imported,
 * so the session does not depend on the modules that depend on it.
 */
export interface HeldLive {
  readonly app: LiveRun;
  tier: Tier;
  stop(): Promise<void>;
}

/** What the run holds and teardown gives back: each is null until acquired (a run may stop anywhere). */
export interface Held {
  workspace: Workspace | null;
  host: Host | null;
  slot: SandboxSlot | null;
  /** The deployment the tiers share, with its broker (live.ts); up from the install op on. */
  live: HeldLive | null;
}

/** What every step of one run shares from its first line on. */
export interface Session {
  readonly opts: RunOptions;
  readonly log: RunLog;
  readonly redactor: Redactor;
  readonly stages: readonly Stage[];
  readonly recipe: string;
  readonly record: RunRecord;
  readonly held: Held;
  /** This run's deployments per stack (deployCount, upgrade redeploys, fresh deploys). */
  readonly ledger: DeployLedger;
  /** run.log from the moment no usage error can come any more (earlier lines included); idempotent. */
  readonly openLogFile: () => Promise<void>;
}

export function openSession(opts: RunOptions): Session {
  const redactor = new Redactor();
  redactor.addAll(opts.secrets ?? []);
  const log = new RunLog(redactor, opts.onEvent);
  let logOpened = false;
  return {
    opts,
    log,
    redactor,
    stages: opts.stages ?? [...TIERS],
    recipe: recipeNameFrom(opts.source),
    record: {
      names: { sha: opts.sha ?? "", stack: "", domain: "", host: opts.hostUrl ?? "" },
      versions: { base: null, head: "", baseReason: "" },
      manifest: null,
      lint: null,
      tiers: {},
      fresh: null,
      deployMs: 0,
      upgradeRedeploys: 0,
    },
    held: { workspace: null, host: null, slot: null, live: null },
    ledger: new DeployLedger(),
    openLogFile: async () => {
      if (!opts.outDir || logOpened) return;
      logOpened = true;
      await mkdir(opts.outDir, { recursive: true });
      log.toFile(join(opts.outDir, "run.log"));
    },
  };
}

export function asTasterError(error: unknown): TasterError {
  if (error instanceof TasterError) return error;
  if ((error as { name?: string })?.name === "AbortError") return new TasterError("infra", "interrupted");
  return new TasterError("infra", errorMessage(error), undefined, { cause: error });
}

export function throwIfCancelled(session: Session): void {
  if (session.opts.signal?.aborted) throw new TasterError("infra", "interrupted (run cancelled)");
}

/** The signal-or-nothing spread the swarm calls take (their options are exact-optional). */
export const signalOf = (session: Session): { signal?: AbortSignal } =>
  session.opts.signal ? { signal: session.opts.signal } : {};
