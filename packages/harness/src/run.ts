import { chmod, mkdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  domainFor,
  errorMessage,
  Redactor,
  type Stage,
  stackNameFor,
  TasterError,
  TIERS,
  type Tier,
  usageError,
} from "@taster/core";
import {
  type AppEnvFile,
  chaosVersion,
  describeHead,
  fetchRecipe,
  isDirty,
  loadSettings,
  makeWorkspace,
  newAppEnv,
  pullRef,
  recipeNameFrom,
  resolveUpgradeBase,
  type Settings,
  settingsPath,
  versionOf,
  type Workspace,
} from "@taster/recipe";
import {
  backupSelection,
  backupStack,
  type ConnectOptions,
  changeBackedUp,
  connectHost,
  deployCount,
  deployStack,
  type EndpointMode,
  endpointModeFor,
  engineProblem,
  ensureSecrets,
  type Host,
  type Plan,
  planRecipe,
  readAppLabels,
  restoreStack,
  roundTripProof,
  type SecretSource,
  teardownStack,
  untilEngineBack,
  updateState,
} from "@taster/swarm";
import type { RunContext } from "@taster/testkit";
import { gateRepoLocal, loadAllowlist } from "./allowlist";
import { type LiveRun, swarmBackend } from "./backend";
import { backupSummary, checkBackupLabels } from "./backup-tiers";
import { type Broker, startBroker } from "./broker";
import { converge } from "./converge";
import { type Customization, discoverCustomization, HOOK_NAMES } from "./discovery";
import { writeHookRunner } from "./hooks";
import { describeFinding, lintRecipe, tiersStoppedByLint } from "./lint/index";
import { entriesFor } from "./manifest-scope";
import { declaredVersion, planOperatorUpgrade } from "./operator-upgrade";
import { type FreshOutcome, freshInstall, freshWanted } from "./ops/fresh";
import { hideFromSandbox, materializeGate } from "./pinned-copy";
import {
  emptyTimings,
  type LintResult,
  levelOf,
  type Manifest,
  naTier,
  RESULTS_SCHEMA_VERSION,
  type Results,
  skippedTier,
  type TestRow,
  type TierResult,
  tierStatusFromRows,
  validateResults,
  verdictOf,
} from "./results";
import { type RunEvent, RunLog } from "./runlog";
import { acquireSlot, exposeToSandbox, runSandboxed, type SandboxSlot, toolPaths } from "./sandbox";
import { describeServing, servingSettings } from "./serving";

/** Key under which the harness leaves the backup marker for the generic restore assertion. */
export const MARKER_KEY = "taster.backupMarker";
/** Key under which the restore op leaves what it put back and checked (files, paths). */
export const RESTORE_CHECK_KEY = "taster.restoreCheck";

export interface RunOptions {
  /** A recipe repository: local path, bare repo or git URL. */
  source: string;
  /** A ref to fetch (default: the remote's HEAD; `--pr N` means refs/pull/N/head). */
  ref?: string;
  pr?: number;
  /** The exact commit to test (default: what the ref points at). */
  sha?: string;
  /** Tiers to run (install is always run), plus opt-in stages (`fresh`). Default: every tier. */
  stages?: Stage[];
  /** Docker host URL (default: $DOCKER_HOST, else the local socket). */
  hostUrl?: string;
  hostOptions?: ConnectOptions;
  /** The host's probe image (TASTER_PROBE_IMAGES); a recipe's `probeImage` setting wins. Default: the lab's. */
  probeImage?: string;
  /** Where results.json and run.log go. */
  outDir?: string;
  allowlistPath?: string;
  recipesTestsDir?: string;
  /** Parent of the per-run workspace (default: <tmp>/taster-runs). */
  workRoot?: string;
  /**
   * Mixed into the stack name so concurrent runs of the same (repo, PR, sha) never share a stack
   * (tests on a shared engine, a retest while a stale run still tears down). Default: none, so
   * the name stays deterministic for the janitor and the queue's coalescing.
   */
  nameSalt?: string;
  /**
   * The recipe's identity for naming the stack, e.g. `coop-cloud/hello-web` from a forge job
   * (default: `source`). The same identity everywhere (worker, janitor) gives the same stack name,
   * wherever the recipe happens to be fetched from.
   */
  repo?: string;
  /** Overrides the recipe's tierTimeout setting (seconds). */
  tierTimeoutSeconds?: number;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** The caller's own secret values (a worker's forge token, webhook secrets…): masked like the run's. */
  secrets?: string[];
}

export const DEFAULT_ALLOWLIST = join(toolPaths.repoRoot, "allowlist", "repo-local.yml");

/** Everything one run knows once the recipe is fetched; filled step by step. */
interface RunState {
  opts: RunOptions;
  log: RunLog;
  redactor: Redactor;
  stages: Stage[];
  recipe: string;
  workspace?: Workspace;
  sha?: string;
  checkoutDir?: string;
  stack?: string;
  domain?: string;
  settings?: Settings;
  headVersion?: string;
  chaos?: string;
  base?: { tag: string; sha: string; dir: string } | null;
  /** The app's `.env`, made once at install as `abra app new` does (app-env.ts). */
  appEnv?: AppEnvFile;
  baseReason?: string;
  customization?: Customization;
  /** Taster's copy of the pinned tests/taster, when repo-local code may run (see pinned-copy.ts). */
  pinnedDir?: string;
  manifest?: Manifest;
  host?: Host;
  live?: LiveRun;
  broker?: Broker;
  /** The run's sandbox slot (its tests' own uid), leased from startHost until teardown. */
  slot?: SandboxSlot;
  /** `dnsrr` on a host whose swarm VIPs do not answer (see packages/swarm/src/vip.ts). */
  endpointMode?: EndpointMode;
  tier: Tier;
  upgradeRedeploys: number;
  /** swarm's per-process deploy counter for the stack before this run (a retest reuses the name). */
  deploysBefore: number;
  deployMs: number;
  tiers: Partial<Record<Tier, TierResult>>;
  lint?: LintResult;
  fresh?: FreshOutcome;
  logOpened?: boolean;
}

/**
 * One recipe at one commit → a verdict: fetch into a fresh workspace, deploy ONCE, run the tiers
 * against that deployment, tear down always, write results.json + run.log. Never throws for a
 * failing recipe; throws only before anything could be recorded (bad options).
 */
export async function runRecipe(opts: RunOptions): Promise<Results> {
  const redactor = new Redactor();
  redactor.addAll(opts.secrets ?? []);
  const log = new RunLog(redactor, opts.onEvent);
  const startedAt = new Date();
  const state: RunState = {
    opts,
    log,
    redactor,
    stages: opts.stages ?? [...TIERS],
    recipe: recipeNameFrom(opts.source),
    tier: "install",
    upgradeRedeploys: 0,
    deploysBefore: 0,
    deployMs: 0,
    tiers: {},
  };
  let failure: TasterError | undefined;
  let residue: string[] = [];
  let teardownMs = 0;
  try {
    await prepare(state);
    if (await lint(state)) {
      await runTiers(state);
      await fresh(state);
    }
  } catch (error) {
    failure = asTasterError(error);
    // A usage error (bad options, a ref that is not there) is the caller's: no run happened.
    if (failure.kind === "usage") {
      await teardown(state);
      await log.close();
      throw failure;
    }
    log.event(
      "error",
      `${failure.kind} error: ${failure.message}${failure.hint ? ` (hint: ${failure.hint})` : ""}`,
    );
  } finally {
    const t0 = Date.now();
    residue = await teardown(state);
    teardownMs = Date.now() - t0;
  }
  const results = buildResults(state, { startedAt, failure, residue, teardownMs });
  await openLogFile(state);
  await writeOutputs(state, results);
  return results;
}

/** run.log from the moment no usage error can come any more (earlier lines included). */
async function openLogFile(state: RunState): Promise<void> {
  const outDir = state.opts.outDir;
  if (!outDir || state.logOpened) return;
  state.logOpened = true;
  await mkdir(outDir, { recursive: true });
  state.log.toFile(join(outDir, "run.log"));
}

function asTasterError(error: unknown): TasterError {
  if (error instanceof TasterError) return error;
  if ((error as { name?: string })?.name === "AbortError") return new TasterError("infra", "interrupted");
  return new TasterError("infra", errorMessage(error), undefined, { cause: error });
}

function checkAborted(state: RunState): void {
  if (state.opts.signal?.aborted) throw new TasterError("infra", "interrupted (run cancelled)");
}

// ---------------------------------------------------------------------------------------------
// Preparation: workspace, fetch, names, settings, upgrade base, customization (the manifest).

async function prepare(state: RunState): Promise<void> {
  const { opts, log } = state;
  if (opts.pr !== undefined && opts.ref) throw usageError("give --pr or --ref, not both");
  const ref = opts.pr !== undefined ? pullRef(opts.pr) : opts.ref;
  const recipesTestsDir = opts.recipesTestsDir ?? toolPaths.recipesTests;
  state.workspace = await makeWorkspace(workRootOf(opts), state.recipe);
  log.event("fetch", `${opts.source} ${ref ?? "HEAD"}${opts.sha ? ` @ ${opts.sha}` : ""}`);
  const fetched = await fetchRecipe({
    url: opts.source,
    workspace: state.workspace.dir,
    ...(ref ? { ref } : {}),
    ...(opts.sha ? { sha: opts.sha } : {}),
  });
  state.sha = fetched.sha;
  state.checkoutDir = fetched.dir;
  const identity = opts.repo ?? opts.source;
  const repo = opts.nameSalt ? `${identity}#${opts.nameSalt}` : identity;
  const key = { repo, pr: opts.pr ?? 0, sha: fetched.sha };
  state.stack = stackNameFor(key);
  state.domain = domainFor(key);
  state.deploysBefore = deployCount(state.stack);
  state.settings = await loadSettings(recipesTestsDir, state.recipe);
  state.headVersion = versionOf(await describeHead(fetched.dir, fetched.sha));
  state.chaos = chaosVersion(fetched.sha, await isDirty(fetched.dir));
  log.event(
    "fetch",
    `${state.recipe} at ${fetched.sha} (version ${state.headVersion}), stack ${state.stack}`,
  );
  await resolveBase(state);
  await resolveCustomization(state, recipesTestsDir);
  await openLogFile(state);
  checkAborted(state);
  await startHost(state);
}

async function resolveBase(state: RunState): Promise<void> {
  const settings = state.settings as Settings;
  const resolved = await resolveUpgradeBase(
    state.checkoutDir as string,
    state.sha as string,
    settings.upgradeBase,
  );
  state.baseReason = resolved.reason;
  const wanted = state.stages.includes("upgrade") && !settings.na.upgrade;
  if (!resolved.base || !wanted) {
    state.base = null;
    state.log.event(
      "upgrade-base",
      resolved.base ? `${resolved.base.tag} (upgrade not run)` : resolved.reason,
    );
    return;
  }
  const workspace = join(state.workspace?.dir as string, "base");
  const fetched = await fetchRecipe({
    url: state.opts.source,
    ref: `refs/tags/${resolved.base.tag}`,
    sha: resolved.base.sha,
    workspace,
  });
  state.base = { tag: resolved.base.tag, sha: fetched.sha, dir: fetched.dir };
  state.log.event("upgrade-base", `${resolved.base.tag} — ${resolved.reason}`);
}

async function resolveCustomization(state: RunState, recipesTestsDir: string): Promise<void> {
  const allowlist = await loadAllowlist(state.opts.allowlistPath ?? DEFAULT_ALLOWLIST);
  const checkoutDir = state.checkoutDir as string;
  // Pins are keyed by owner/name: only a run that knows its repository (a job, `run --repo`) has one.
  const approved = await gateRepoLocal(allowlist, state.opts.repo, checkoutDir);
  const gate = await materializeGate(approved, checkoutDir, pinnedRoot(state));
  const found = await discoverCustomization({ recipesTestsDir, recipe: state.recipe, checkoutDir, gate });
  state.customization = found;
  const listed = entriesFor(found.entries, state.stages);
  if (gate.pinnedDir) state.pinnedDir = gate.pinnedDir;
  const settingsFile = settingsPath(recipesTestsDir, state.recipe);
  state.manifest = {
    recipe: state.recipe,
    settingsFile: (await fileExists(settingsFile)) ? settingsFile : null,
    upgradeBase: { base: state.base?.tag ?? null, reason: state.baseReason ?? "" },
    backupCapable: false, // known once planned
    repoLocal: {
      allowed: gate.allowed,
      why: gate.why,
      treeHash: gate.treeHash,
      ...(gate.approve ? { approve: gate.approve } : {}),
    },
    files: listed,
  };
  state.log.event("manifest", `repo-local code ${gate.allowed ? "ALLOWED" : "not run"}: ${gate.why}`);
  for (const entry of listed) {
    const where = entry.path
      .replace(`${checkoutDir}/`, "<recipe>/")
      .replace(`${pinnedRoot(state)}/`, "<pinned>/")
      .replace(`${toolPaths.repoRoot}/`, "");
    state.log.event(
      "manifest",
      `${entry.allowed ? "run " : "DENY"} ${entry.kind} ${entry.tier} ${where} — ${entry.why}`,
    );
  }
}

async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const workRootOf = (opts: RunOptions) => resolve(opts.workRoot ?? join(tmpdir(), "taster-runs"));

/** Where the pinned tree is copied (`<root>/tests/taster`): in the run's workspace, beside no checkout. */
const pinnedRoot = (state: RunState) => join(state.workspace?.dir as string, "pinned");

async function startHost(state: RunState): Promise<void> {
  const url = state.opts.hostUrl ?? process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  state.host = await connectHost(url, state.opts.hostOptions);
  state.endpointMode = await endpointModeFor(state.host, probe(state).probeImage);
  if (state.endpointMode === "dnsrr") {
    state.log.event(
      "manifest",
      "this host's swarm VIPs do not answer: services are deployed with endpoint_mode dnsrr (Taster's overlay; the recipe is unchanged)",
    );
  }
  const sandboxRoot = join(state.workspace?.dir as string, "sandbox");
  await mkdir(sandboxRoot, { recursive: true });
  state.slot = await acquireSlot(state.workspace?.dir as string, workRootOf(state.opts));
  await exposeToSandbox(sandboxRoot, state.slot);
  // Repo-local code sees its pinned copy, never the checkouts (files beside tests/taster).
  for (const dir of [state.checkoutDir, state.base?.dir]) if (dir) await hideFromSandbox(dir);
  if (state.pinnedDir) await exposeToSandbox(state.pinnedDir, state.slot);
}

/** The lint row (src/lint/): false when it found an error, so nothing is deployed. */
async function lint(state: RunState): Promise<boolean> {
  state.lint = await lintRecipe({
    host: state.host as Host,
    dir: state.checkoutDir as string,
    base: state.base ? { dir: state.base.dir, tag: state.base.tag } : null,
    stack: state.stack as string,
    domain: state.domain as string,
    settings: state.settings as Settings,
  });
  for (const finding of state.lint.findings) state.log.event("lint", describeFinding(finding));
  state.log.event(
    "lint",
    `${state.lint.status.toUpperCase()}${state.lint.reason ? ` — ${state.lint.reason}` : ""}`,
  );
  if (state.lint.status !== "fail") return true;
  state.tiers = tiersStoppedByLint(state.lint);
  return false;
}

/** The opt-in fresh tier (src/ops/fresh.ts): its own stack, its own deploy count, torn down there. */
async function fresh(state: RunState): Promise<void> {
  if (!freshWanted(state.stages, state.settings)) return;
  checkAborted(state);
  state.fresh = await freshInstall({
    host: state.host as Host,
    dir: state.checkoutDir as string,
    stack: state.stack as string,
    domain: state.domain as string,
    base: state.base?.tag ?? null,
    settings: state.settings as Settings,
    headVersion: state.headVersion as string,
    chaosVersion: state.chaos as string,
    endpointMode: state.endpointMode ?? "vip",
    redactor: state.redactor,
    ...(state.opts.signal ? { signal: state.opts.signal } : {}),
    log: (message) => state.log.event("fresh", message),
  });
  const { result } = state.fresh;
  state.log.event(
    "tier",
    `${result.status.toUpperCase()}${result.reason ? ` — ${result.reason}` : ""}`,
    "fresh",
  );
}

// ---------------------------------------------------------------------------------------------
// Tiers.

function contextFor(state: RunState, target?: Plan): RunContext {
  const settings = state.settings as Settings;
  const plan = target ?? state.live?.plan;
  return {
    recipe: state.recipe,
    stack: state.stack as string,
    domain: state.domain as string,
    sha: state.sha as string,
    baseVersion: state.base?.tag ?? null,
    headVersion: state.headVersion as string,
    chaosVersion: state.chaos as string,
    tier: state.tier,
    appService: plan?.appService ?? "app",
    versionLabel: declaredVersion(plan),
    services: plan?.services.map((s) => s.name) ?? [],
    settings: {
      healthPath: settings.healthPath,
      ...servingSettings(plan, settings),
      acceptableStatuses: settings.acceptableStatuses,
      httpTimeoutMs: settings.httpTimeout,
    },
  };
}

/** A tier's op; `plan` is what the stack will be once it is done (what the assertions see). */
type Op = { name: string; run: () => Promise<void>; plan?: Plan; deployed?: string };

async function runTiers(state: RunState): Promise<void> {
  const order: { tier: Tier; prepare: () => Promise<Op | TierResult> }[] = [
    { tier: "install", prepare: async () => installOp(state) },
    { tier: "upgrade", prepare: async () => upgradeOp(state) },
    { tier: "backup", prepare: async () => backupOp(state) },
    { tier: "restore", prepare: async () => restoreOp(state) },
    { tier: "custom", prepare: async () => customOp(state) },
  ];
  let stopped: string | undefined;
  for (const { tier, prepare: prepareTier } of order) {
    checkAborted(state);
    state.tier = tier;
    const declared = tier === "install" ? undefined : state.settings?.na[tier];
    if (stopped) state.tiers[tier] = skippedTier(stopped);
    else if (!state.stages.includes(tier)) state.tiers[tier] = naTier("not-requested", "not in --stages");
    else if (declared) state.tiers[tier] = naTier("declared", declared);
    else {
      const op = await prepareOrFail(prepareTier);
      state.tiers[tier] = "status" in op ? op : await runTier(state, tier, op);
      if (state.tiers[tier]?.status === "fail") await blameEngineIfGone(state, tier);
    }
    const result = state.tiers[tier] as TierResult;
    const why = result.reason ? ` — ${result.reason}` : "";
    state.log.event("tier", `${result.status.toUpperCase()}${why}`, tier);
    if (result.status === "fail") stopped = `not run: ${tier} failed`;
  }
}

/**
 * A tier that failed while the engine went away (restarted, crashed, link cut) says nothing about
 * the recipe: the run ends as an infrastructure error (the worker retries it), not as a red verdict.
 */
async function blameEngineIfGone(state: RunState, tier: Tier): Promise<void> {
  if (!state.host) return;
  const problem = await engineProblem(state.host);
  if (!problem) return;
  const failed = state.tiers[tier]?.reason;
  state.tiers[tier] = skippedTier(`interrupted: ${problem}`);
  throw new TasterError(
    "infra",
    `the Docker engine went away during the ${tier} tier: ${problem}${failed ? ` (the tier saw: ${failed})` : ""}`,
  );
}

/** A recipe problem found while preparing a tier's op (e.g. compose that does not render) fails that tier. */
async function prepareOrFail(prepareTier: () => Promise<Op | TierResult>): Promise<Op | TierResult> {
  try {
    return await prepareTier();
  } catch (error) {
    const failure = asTasterError(error);
    if (failure.kind !== "recipe" && failure.kind !== "test") throw failure;
    const row: TestRow = {
      file: "(taster)",
      name: "prepare the op",
      status: "fail",
      durationMs: 0,
      failure: failure.message,
    };
    return { status: "fail", reason: failure.message, tests: [row], timings: emptyTimings() };
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tierBudgetMs = (state: RunState) =>
  (state.opts.tierTimeoutSeconds ?? state.settings?.tierTimeout ?? 300) * 1000;

/**
 * hook → op → assertions. The assertions' jest process starts while the op runs (its broker calls
 * wait for the op), so jest's start-up is hidden behind the deploy; the tier's clock (tierTimeout)
 * covers the hook and the assertions, not the op (which has its own convergence timeout).
 */
async function runTier(state: RunState, tier: Tier, op: Op): Promise<TierResult> {
  const timings = emptyTimings();
  const started = Date.now();
  let budgetMs = tierBudgetMs(state);
  let deployed: string | undefined; // once the op was tried
  const finish = (result: Omit<TierResult, "timings">): TierResult => ({
    ...result,
    ...(deployed ? { deployed } : {}),
    timings: { ...timings, totalMs: Date.now() - started },
  });
  const hookName = tier === "custom" ? undefined : HOOK_NAMES[tier];
  if (hookName) {
    const t0 = Date.now();
    const hook = await runHook(state, tier, hookName, budgetMs);
    timings.hookMs = Date.now() - t0;
    budgetMs = Math.max(1_000, budgetMs - timings.hookMs);
    if (hook) return finish(hook);
  }
  const opDone = deferred();
  // The assertions subscribe only once their sandbox is set up; an op that fails sooner (e.g. the
  // engine went away) must not leave the rejection unhandled — that would end the worker process.
  opDone.promise.catch(() => undefined);
  const cancel = new AbortController();
  const files = state.customization?.assertions[tier] ?? [];
  const assertions = runAssertions(state, tier, files, budgetMs, op.plan, opDone.promise, cancel.signal);
  // Awaited below; until then a rejection (e.g. the run was interrupted) must not go unhandled.
  assertions.catch(() => undefined);
  let opRow: TestRow;
  deployed = op.deployed;
  try {
    opRow = await timed(state, tier, op, (ms) => {
      timings.opMs = ms;
    });
  } catch (error) {
    opDone.reject(error);
    cancel.abort();
    await assertions.catch(() => undefined);
    throw error;
  }
  if (opRow.status === "fail") {
    opDone.reject(new Error("op failed"));
    cancel.abort();
    await assertions.catch(() => undefined);
    return finish({ status: "fail", reason: opRow.failure, tests: [opRow] });
  }
  opDone.resolve();
  const t1 = Date.now();
  const rows = await assertions;
  timings.assertMs = Date.now() - t1;
  const verdict = tierStatusFromRows(rows);
  return finish({ ...verdict, tests: [opRow, ...rows] });
}

/** The op, done once by the orchestrator, as a row of its own so a failure says what broke. */
async function timed(state: RunState, tier: Tier, op: Op, took: (ms: number) => void): Promise<TestRow> {
  const t0 = Date.now();
  state.log.event("op", op.name, tier);
  try {
    await op.run();
    took(Date.now() - t0);
    state.log.event("op", `done in ${((Date.now() - t0) / 1000).toFixed(1)}s`, tier);
    return { file: "(taster)", name: op.name, status: "pass", durationMs: Date.now() - t0 };
  } catch (error) {
    took(Date.now() - t0);
    const failure = asTasterError(error);
    if (failure.kind === "infra" && failure.message.startsWith("interrupted")) throw failure;
    return {
      file: "(taster)",
      name: op.name,
      status: "fail",
      durationMs: Date.now() - t0,
      failure: failure.message,
    };
  }
}

async function runHook(
  state: RunState,
  tier: Tier,
  hookName: string,
  budgetMs: number,
): Promise<Omit<TierResult, "timings"> | null> {
  const hooks = state.customization?.hooks ?? [];
  if (hooks.length === 0) return null;
  const workDir = join(state.workspace?.dir as string, "sandbox", `${tier}-hook`);
  await mkdir(workDir, { recursive: true });
  const runner = await writeHookRunner(workDir, hookName, hooks);
  if (!runner) return null;
  state.log.event("hook", hookName, tier);
  const rows = await sandboxed(state, tier, [runner], workDir, { budgetMs });
  const failed = rows.filter((r) => r.status !== "pass");
  if (failed.length === 0) return null;
  const first = failed[0]?.failure?.split("\n")[0] ?? failed[0]?.name ?? "";
  return { status: "fail", reason: `${hookName} hook failed: ${first}`, tests: rows };
}

async function runAssertions(
  state: RunState,
  tier: Tier,
  files: string[],
  budgetMs: number,
  plan: Plan | undefined,
  gate: Promise<unknown>,
  cancel: AbortSignal,
): Promise<TestRow[]> {
  const workDir = join(state.workspace?.dir as string, "sandbox", tier);
  await mkdir(workDir, { recursive: true });
  state.log.event("assert", `${files.length} file(s), started alongside the op`, tier);
  return sandboxed(state, tier, files, workDir, { budgetMs, plan, gate, cancel });
}

interface SandboxCall {
  budgetMs: number;
  /** The plan the tests will see (after the op); default: the live one. */
  plan?: Plan | undefined;
  /** The op: broker calls wait for it, and the clock starts when it is done. */
  gate?: Promise<unknown>;
  cancel?: AbortSignal;
}

async function sandboxed(state: RunState, tier: Tier, files: string[], workDir: string, call: SandboxCall) {
  const roots = [state.opts.recipesTestsDir ?? toolPaths.recipesTests, workDir];
  if (state.pinnedDir) roots.push(state.pinnedDir);
  const signals = [state.opts.signal, call.cancel].filter((s): s is AbortSignal => s !== undefined);
  const grant = (state.broker as Broker).issue(call.gate ? { gate: call.gate } : {});
  // The test holds this token in its env and may print it: it is a credential like any other.
  state.redactor.add(grant.token);
  const result = await runSandboxed({
    files,
    roots,
    workDir,
    slot: state.slot as SandboxSlot,
    broker: { socketPath: (state.broker as Broker).socketPath, token: grant.token },
    context: contextFor(state, call.plan),
    timeoutMs: call.budgetMs,
    ...(call.gate ? { clockStartsAfter: call.gate } : {}),
    labelBases: [roots[0] as string, pinnedRoot(state), workDir],
    cacheDir: join(state.workspace?.dir as string, "sandbox", "jest-cache"),
    ...(signals.length ? { signal: AbortSignal.any(signals) } : {}),
    onOutput: (line) => state.log.detail(line, tier),
    redact: (text) => state.redactor.redact(text),
  }).finally(() => grant.revoke());
  // Cancelled because the op failed: say that, not how jest died (the op's failure follows).
  if (call.cancel?.aborted) state.log.event("assert", "not run: the op failed (see below)", tier);
  else if (result.error) state.log.event("assert", result.error, tier);
  checkAborted(state);
  if (result.rows.length === 0 && result.error) {
    return [
      {
        file: "(taster)",
        name: "run the assertions",
        status: "fail" as const,
        durationMs: 0,
        failure: result.error,
      },
    ];
  }
  for (const row of result.rows) {
    const mark = row.status === "pass" ? "✓" : row.status === "fail" ? "✗" : "○";
    state.log.event("test", `${mark} ${row.file} › ${row.name}`, tier);
    if (row.failure) state.log.detail(row.failure, tier);
  }
  return result.rows;
}

// ---------------------------------------------------------------------------------------------
// The ops: each is performed exactly once, here, never by test code.

async function plan(state: RunState, dir: string, envFile?: AppEnvFile): Promise<Plan> {
  return planRecipe(state.host as Host, {
    dir,
    stack: state.stack as string,
    domain: state.domain as string,
    env: state.settings?.env ?? {},
    ...(envFile ? { envFile: { text: envFile.text, name: envFile.name } } : {}),
  });
}

async function deployAndConverge(
  state: RunState,
  p: Plan,
  labels: Parameters<typeof deployStack>[2],
  only?: string[],
): Promise<void> {
  const host = state.host as Host;
  const created = await ensureSecrets(host, p, state.redactor, {
    values: state.settings?.secrets ?? {},
    ...(only ? { only } : {}),
  });
  noteSecrets(state, created);
  const t0 = Date.now();
  await deployStack(host, p, labels, { endpointMode: state.endpointMode ?? "vip" });
  await converge(host, p, {
    ...(state.settings?.deployTimeout ? { timeoutSeconds: state.settings.deployTimeout } : {}),
    ...(state.opts.signal ? { signal: state.opts.signal } : {}),
    onProgress: (msg) => state.log.event("converge", msg, state.tier),
  });
  state.deployMs += Date.now() - t0;
}

/** Which secrets were made and how (never their values): the log and the manifest say so. */
function noteSecrets(state: RunState, created: SecretSource[]): void {
  if (created.length > 0)
    state.log.event("secrets", `created ${created.length} secret(s) (values never shown)`, state.tier);
  for (const secret of created) state.log.event("secrets", `${secret.name}: ${secret.source}`, state.tier);
  state.manifest?.appEnv?.secrets.push(...created.map(({ name, source }) => ({ name, source })));
}

async function installOp(state: RunState): Promise<Op> {
  const target = state.base ?? null;
  const dir = target?.dir ?? (state.checkoutDir as string);
  // `abra app new`: the app's .env is the installed release's .env.sample, made once.
  state.appEnv = await newAppEnv(dir, target?.tag ?? `the head ${state.chaos}`);
  if (state.manifest) state.manifest.appEnv = { from: state.appEnv.name, added: [], secrets: [] };
  const p = await plan(state, dir, state.appEnv);
  checkBackupLabels(p, state.stages, state.settings?.na);
  state.live = { host: state.host as Host, plan: p, backup: null, ...probe(state) };
  if (state.manifest) state.manifest.backupCapable = p.backupCapable;
  const serving = describeServing(p, state.settings as Settings);
  if (state.manifest) state.manifest.serving = serving;
  state.log.event("manifest", `serving: ${serving}`);
  const slot = state.slot as SandboxSlot;
  state.broker = await startBroker(() => contextFor(state), swarmBackend(state.live), slot);
  state.broker.onCall = (op, detail) => state.log.detail(`broker ${op} ${detail}`, state.tier);
  // A release deploys as a release (no chaos labels); the PR head is a chaos deploy, as with abra.
  const labels = target
    ? { chaos: false, chaosVersion: chaosVersion(target.sha) }
    : { chaos: true, chaosVersion: state.chaos as string };
  return {
    name: `deploy ${target ? `${target.tag} (upgrade base)` : `${state.headVersion} (PR head)`} and converge`,
    plan: p,
    deployed: target ? target.tag : `head ${state.chaos}`,
    run: () => deployAndConverge(state, p, labels),
  };
}

function probe(state: RunState): { probeImage?: string } {
  const image = state.settings?.probeImage ?? state.opts.probeImage;
  return image ? { probeImage: image } : {};
}

async function upgradeOp(state: RunState): Promise<Op | TierResult> {
  if (!state.base) {
    return naTier(
      state.settings?.upgradeBase === "none" ? "declared" : "not-applicable",
      state.baseReason ?? "no upgrade base",
    );
  }
  const live = state.live as LiveRun;
  const upgrade = await planOperatorUpgrade({
    host: state.host as Host,
    stack: state.stack as string,
    domain: state.domain as string,
    overrides: state.settings?.env ?? {},
    appEnv: state.appEnv as AppEnvFile,
    base: { tag: state.base.tag, dir: state.base.dir, plan: live.plan },
    headDir: state.checkoutDir as string,
    headVersion: state.headVersion as string,
  });
  const head = upgrade.plan;
  for (const step of upgrade.applied) state.log.event("app-env", step, "upgrade");
  state.manifest?.appEnv?.added.push(...upgrade.env.added);
  const noted = upgrade.applied.length ? ` (release note: ${upgrade.applied.join("; ")})` : "";
  return {
    name: `chaos-deploy the PR head ${state.chaos} over ${state.base.tag} with the app's .env and converge${noted}`,
    plan: head,
    deployed: `→ head ${state.chaos}`,
    run: async () => {
      live.plan = head;
      const before = deployCount(head.stack);
      try {
        const labels = { chaos: true, chaosVersion: state.chaos as string };
        await deployAndConverge(state, head, labels, upgrade.secretsToCreate);
      } finally {
        // Only a redeploy that really happened is an upgrade redeploy, not a second fresh deployment.
        state.upgradeRedeploys += deployCount(head.stack) - before;
      }
      await proveUpgrade(state, head);
    },
  };
}

/** The upgrade once "passed" by redeploying the base: prove the head is what runs now. */
async function proveUpgrade(state: RunState, head: Plan): Promise<void> {
  const host = state.host as Host;
  const labels = await readAppLabels(host, head);
  const deployed = labels[`coop-cloud.${head.stack}.chaos-version`];
  if (deployed !== state.chaos) {
    throw new TasterError(
      "test",
      `upgrade did not take: deployed chaos-version is ${deployed ?? "missing"}, the head is ${state.chaos}`,
    );
  }
  const rolledBack = Object.entries(await updateState(host, head)).filter(([, s]) => s && /rollback/.test(s));
  if (rolledBack.length > 0) {
    throw new TasterError(
      "test",
      `upgrade rolled back: ${rolledBack.map(([n, s]) => `${n} ${s}`).join(", ")}`,
    );
  }
}

function notBackupCapable(state: RunState): TierResult | null {
  if (state.live?.plan.backupCapable) return null;
  return naTier("not-applicable", "not backup-capable: no service has the label backupbot.backup=true");
}

async function backupOp(state: RunState): Promise<Op | TierResult> {
  const na = notBackupCapable(state);
  if (na) return na;
  const live = state.live as LiveRun;
  backupSelection(live.plan); // two backupbot.backup=true labels: a recipe error before the op
  return {
    name: "back up (backup-bot-two labels), recording each path's content checksum",
    run: async () => {
      const artifactDir = join(state.workspace?.dir as string, "artifacts");
      await mkdir(artifactDir, { recursive: true, mode: 0o700 });
      live.backup = await backupStack(live.host, live.plan, artifactDir, {
        ...(state.settings ? { maxBytes: state.settings.backupMaxMiB * 1024 * 1024 } : {}),
      });
      const [marker] = live.backup.markers;
      if (marker) state.broker?.state.set(MARKER_KEY, marker);
      for (const line of backupSummary(live.backup)) state.log.event("backup", line, "backup");
    },
  };
}

async function restoreOp(state: RunState): Promise<Op | TierResult> {
  const na = notBackupCapable(state);
  if (na) return na;
  const live = state.live as LiveRun;
  if (!live.backup) return skippedTier("not run: no backup artifact");
  const backup = live.backup;
  return {
    name: "change every backed-up path, restore the backup, converge",
    run: async () => {
      const changed = await changeBackedUp(live.host, live.plan, backup);
      const restored = await restoreStack(live.host, live.plan, backup);
      const proof = roundTripProof(backup.checksums, changed, restored.checksums);
      state.log.event(
        "restore",
        `${restored.files} file(s) put back and checked against the artifact`,
        "restore",
      );
      state.log.event("restore", proof.summary, "restore");
      state.broker?.state.set(RESTORE_CHECK_KEY, { ...restored, checksums: proof.checksums });
      await converge(live.host, live.plan, {
        ...(state.opts.signal ? { signal: state.opts.signal } : {}),
        onProgress: (msg) => state.log.event("converge", msg, "restore"),
      });
    },
  };
}

async function customOp(state: RunState): Promise<Op | TierResult> {
  if ((state.customization?.assertions.custom ?? []).length === 0) {
    return naTier("untested", "no custom tests (custom/*.test.ts)");
  }
  return { name: "nothing to do: custom tests run against the live deployment", run: async () => {} };
}

// ---------------------------------------------------------------------------------------------
// Teardown and results.

async function teardown(state: RunState): Promise<string[]> {
  let residue: string[] = [];
  await state.broker?.close().catch(() => undefined);
  if (state.host && state.stack) {
    state.log.event("teardown", `removing stack ${state.stack}`);
    residue = await removeStack(state.host, state.stack);
    const problem = residue.length > 0 ? await engineProblem(state.host) : undefined;
    if (problem) {
      // The engine restarted or the link dropped: what is left is still there once it is back.
      state.log.event("teardown", `${problem}; waiting up to ${ENGINE_BACK_MS / 1000}s for it to come back`);
      if (await untilEngineBack(state.host, ENGINE_BACK_MS))
        residue = await removeStack(state.host, state.stack);
    }
    state.log.event("teardown", residue.length === 0 ? "zero residue" : `RESIDUE: ${residue.join(", ")}`);
  }
  await state.host?.close().catch(() => undefined);
  await state.workspace?.cleanup().catch(() => undefined);
  await state.slot?.release().catch(() => undefined);
  return residue;
}

/** How long teardown waits for an engine that went away before leaving the residue to the janitor. */
const ENGINE_BACK_MS = 90_000;

async function removeStack(host: Host, stack: string): Promise<string[]> {
  try {
    return (await teardownStack(host, stack)).residue;
  } catch (error) {
    return [`teardown failed: ${errorMessage(error)}`];
  }
}

function buildResults(
  state: RunState,
  done: { startedAt: Date; failure?: TasterError; residue: string[]; teardownMs: number },
): Results {
  const reason = done.failure ? `not run: ${done.failure.message}` : "not run";
  const tiers = Object.fromEntries(TIERS.map((t) => [t, state.tiers[t] ?? skippedTier(reason)])) as Record<
    Tier,
    TierResult
  >;
  const verdict = verdictOf(tiers, [state.lint, state.fresh?.result]);
  const residue = [...done.residue, ...(state.fresh?.residue ?? [])];
  const errored = done.failure && done.failure.kind !== "recipe" && done.failure.kind !== "test";
  const errorKind = done.failure?.kind === "config" ? "config" : "infra";
  const finishedAt = new Date();
  const stack = state.stack ?? "";
  const backup = state.live?.backup;
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    recipe: state.recipe,
    repo: state.opts.source,
    pr: state.opts.pr ?? 0,
    sha: state.sha ?? state.opts.sha ?? "",
    stack,
    domain: state.domain ?? "",
    host: state.host?.url ?? state.opts.hostUrl ?? "",
    // A head that does not install from scratch proved nothing a first install would see.
    level: state.fresh?.result.status === "fail" ? 0 : levelOf(tiers),
    outcome: errored ? "error" : done.failure || verdict === "fail" ? "fail" : "pass",
    ...(done.failure ? { error: done.failure.message } : {}),
    ...(errored ? { errorKind } : {}),
    versions: {
      base: state.base?.tag ?? null,
      head: state.headVersion ?? "",
      baseReason: state.baseReason ?? "",
    },
    tiers,
    ...(state.lint ? { lint: state.lint } : {}),
    ...(state.fresh ? { fresh: state.fresh.result } : {}),
    timings: {
      startedAt: done.startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      totalMs: finishedAt.getTime() - done.startedAt.getTime(),
      deployMs: state.deployMs,
      teardownMs: done.teardownMs,
    },
    manifest: state.manifest ?? null,
    backup: backup ? { size: backup.size, sha256: backup.sha256, entries: backup.entries } : null,
    residue,
    flags: {
      deployCount: stack ? deployCount(stack) - state.deploysBefore - state.upgradeRedeploys : 0,
      upgradeRedeploys: state.upgradeRedeploys,
      ...(state.fresh ? { freshDeploys: state.fresh.deploys } : {}),
      cleanTeardown: residue.length === 0,
      noSecretLeak: true,
    },
  };
}

/**
 * results.json and run.log leave the process only redacted. noSecretLeak is false when any output
 * of the run (log lines, test output, results) carried a secret value that had to be masked.
 */
async function writeOutputs(state: RunState, results: Results): Promise<void> {
  const redactedOnce = state.redactor.redact(JSON.stringify(results));
  results.flags.noSecretLeak = !state.redactor.foundLeak;
  const safe = validateResults(
    JSON.parse(redactedOnce.replace('"noSecretLeak":true', `"noSecretLeak":${results.flags.noSecretLeak}`)),
  );
  Object.assign(results, safe);
  state.log.event(
    "result",
    `${results.outcome.toUpperCase()} level ${results.level}, deployCount ${results.flags.deployCount}, residue ${results.residue.length}`,
  );
  if (state.opts.outDir) {
    const path = join(state.opts.outDir, "results.json");
    await writeFile(path, `${JSON.stringify(safe, null, 2)}\n`);
    await chmod(path, 0o644);
  }
  await state.log.close();
}
