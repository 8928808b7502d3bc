import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Tier } from "@taster/core";
import type { Plan } from "@taster/swarm";
import { writeHookRunner } from "../hooks";
import type { TestRow, TierResult } from "../results";
import { runSandboxed } from "../sandbox";
import type { Live } from "./live";
import type { PreparedRun } from "./prepare";
import { throwIfCancelled } from "./session";

interface SandboxCall {
  budgetMs: number;
  /** The plan the tests will see (after the op); default: the live one. */
  plan?: Plan | undefined;
  /** The op: broker calls wait for it, and the clock starts when it is done. */
  gate?: Promise<unknown>;
  cancel?: AbortSignal;
  /** The tier will not run after all (a jest started ahead, see early.ts): stop, say nothing. */
  abandon?: AbortSignal;
  /** Log "N file(s), started alongside the op" now (default); a jest started ahead says it when its tier begins. */
  announce?: boolean;
}

/** The tier's pre-hook (abra.sh's preInstall…); a failing hook fails the tier before its op. */
export async function runHook(
  run: PreparedRun,
  live: Live,
  tier: Tier,
  hookName: string,
  budgetMs: number,
): Promise<Omit<TierResult, "timings"> | null> {
  if (run.customization.hooks.length === 0) return null;
  const workDir = join(run.workspaceDir, "sandbox", `${tier}-hook`);
  await mkdir(workDir, { recursive: true });
  const runner = await writeHookRunner(workDir, hookName, run.customization.hooks);
  if (!runner) return null;
  run.log.event("hook", hookName, tier);
  const rows = await sandboxed(run, live, tier, [runner], workDir, { budgetMs });
  const failed = rows.filter((r) => r.status !== "pass");
  if (failed.length === 0) return null;
  const first = failed[0]?.failure?.split("\n")[0] ?? failed[0]?.name ?? "";
  return { status: "fail", reason: `${hookName} hook failed: ${first}`, tests: rows };
}

/** The tier's assertion files, started alongside the op (`call.gate`). */
export async function runAssertions(
  run: PreparedRun,
  live: Live,
  tier: Tier,
  files: string[],
  call: SandboxCall,
): Promise<TestRow[]> {
  const workDir = join(run.workspaceDir, "sandbox", tier);
  await mkdir(workDir, { recursive: true });
  if (call.announce !== false) announceAssertions(run, tier, files);
  return sandboxed(run, live, tier, files, workDir, call);
}

export const announceAssertions = (run: PreparedRun, tier: Tier, files: string[]): void =>
  run.log.event("assert", `${files.length} file(s), started alongside the op`, tier);

/** One jest process in the run's sandbox slot, reaching the stack only through a broker grant. */
async function sandboxed(
  run: PreparedRun,
  live: Live,
  tier: Tier,
  files: string[],
  workDir: string,
  call: SandboxCall,
): Promise<TestRow[]> {
  const roots = [run.recipesTestsDir, workDir];
  if (run.pinnedDir) roots.push(run.pinnedDir);
  const signals = [run.opts.signal, call.cancel, call.abandon].filter(
    (s): s is AbortSignal => s !== undefined,
  );
  const grant = live.broker.issue(call.gate ? { gate: call.gate } : {});
  // The test holds this token in its env and may print it: it is a credential like any other.
  run.redactor.add(grant.token);
  const result = await runSandboxed({
    files,
    roots,
    workDir,
    slot: run.slot,
    broker: { socketPath: live.broker.socketPath, token: grant.token },
    context: live.context(call.plan, tier),
    timeoutMs: call.budgetMs,
    ...(call.gate ? { clockStartsAfter: call.gate } : {}),
    labelBases: [run.recipesTestsDir, join(run.workspaceDir, "pinned"), workDir],
    cacheDir: join(run.workspaceDir, "sandbox", "jest-cache"),
    ...(signals.length ? { signal: AbortSignal.any(signals) } : {}),
    onOutput: (line) => run.log.detail(line, tier),
    redact: (text) => run.redactor.redact(text),
  }).finally(() => grant.revoke());
  if (call.abandon?.aborted) return [];
  // Cancelled because the op failed: say that, not how jest died (the op's failure follows).
  if (call.cancel?.aborted) run.log.event("assert", "not run: the op failed (see below)", tier);
  else if (result.error) run.log.event("assert", result.error, tier);
  throwIfCancelled(run);
  if (result.rows.length === 0 && result.error) {
    return [
      { file: "(taster)", name: "run the assertions", status: "fail", durationMs: 0, failure: result.error },
    ];
  }
  for (const row of result.rows) {
    const mark = row.status === "pass" ? "✓" : row.status === "fail" ? "✗" : "○";
    run.log.event("test", `${mark} ${row.file} › ${row.name}`, tier);
    if (row.failure) run.log.detail(row.failure, tier);
  }
  return result.rows;
}
