import { errorMessage, freshStackOf, type Redactor, TasterError } from "@taster/core";
import type { Settings } from "@taster/recipe";
import {
  type DeployLedger,
  deployStack,
  type EndpointMode,
  ensureSecrets,
  type Host,
  httpProbe,
  type Plan,
  planRecipe,
  teardownStack,
} from "@taster/swarm";
import { converge } from "../../converge";
import { emptyTimings, naTier, type TestRow, type TierResult } from "../../results";
import { resolveServing } from "../../serving";
import type { PreparedRun } from "../prepare";
import { type FreshOutcome, signalOf, throwIfCancelled } from "../session";

export interface FreshInput {
  host: Host;
  /** The PR head's checkout. */
  dir: string;
  /** The run's main stack and domain; the fresh stack is `<stack>-fresh` on `<stack>-fresh.<domain's base>`. */
  stack: string;
  domain: string;
  /** The main deployment's release: null when it installed the head itself (then fresh adds nothing). */
  base: string | null;
  settings: Settings;
  headVersion: string;
  chaosVersion: string;
  endpointMode: EndpointMode;
  redactor: Redactor;
  /** The run's ledger: the fresh stack's deploys are counted there under its own name. */
  ledger: DeployLedger;
  signal?: AbortSignal;
  log: (message: string) => void;
}

/** Whether this run asked for the fresh tier (`!testme fresh`, `--stages …,fresh`, `freshInstall: true`). */
export const freshWanted = (stages: readonly string[], settings: Settings | undefined): boolean =>
  stages.includes("fresh") || settings?.freshInstall === true;

/**
 * The head installed from scratch on a stack of its own, as an operator's first `abra app new` +
 * deploy of this release would: deploy, converge (healthchecks included), answer HTTP like the
 * proxy; then torn down like the main stack, residue checked. The main deployment stays the one
 * the tiers share (its deployCount stays 1).
 */
export async function freshInstall(input: FreshInput): Promise<FreshOutcome> {
  if (!input.base) {
    const result = naTier("not-applicable", "the main deployment installed the head from scratch");
    return { result, deploys: 0, residue: [] };
  }
  const stack = freshStackOf(input.stack);
  const started = Date.now();
  const rows: TestRow[] = [];
  let residue: string[] = [];
  try {
    const plan = await row(rows, `deploy the head ${input.headVersion} on its own stack and converge`, () =>
      deploy(input, stack),
    );
    if (plan) await row(rows, "the app answers HTTP like the proxy", () => serving(input, plan));
  } finally {
    input.log(`removing stack ${stack}`);
    residue = await teardownStack(input.host, stack).then(
      (r) => r.residue,
      (error) => [`teardown failed: ${errorMessage(error)}`],
    );
    input.log(residue.length === 0 ? "zero residue" : `RESIDUE: ${residue.join(", ")}`);
  }
  const failed = rows.find((r) => r.status === "fail");
  const result: TierResult = {
    status: failed ? "fail" : "pass",
    reason: failed
      ? `a first install of the head fails: ${failed.failure?.split("\n")[0] ?? failed.name}`
      : `the head installed from scratch on ${stack}`,
    tests: rows,
    timings: { ...emptyTimings(), opMs: Date.now() - started, totalMs: Date.now() - started },
  };
  return { result, deploys: input.ledger.count(stack), residue };
}

async function deploy(input: FreshInput, stack: string): Promise<Plan> {
  const domain = `${stack}.${input.domain.split(".").slice(1).join(".")}`;
  const plan = await planRecipe(input.host, { dir: input.dir, stack, domain, env: input.settings.env });
  await ensureSecrets(input.host, plan, input.redactor);
  const labels = { version: input.headVersion, chaos: true, chaosVersion: input.chaosVersion };
  await deployStack(input.host, plan, labels, { endpointMode: input.endpointMode, ledger: input.ledger });
  await converge(input.host, plan, {
    ...(input.settings.deployTimeout ? { timeoutSeconds: input.settings.deployTimeout } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
    onProgress: input.log,
  });
  return plan;
}

/** The zero-config floor's request (src/serving.ts), against the fresh stack. */
async function serving(input: FreshInput, plan: Plan): Promise<void> {
  const target = resolveServing(plan, input.settings);
  const { healthPath, acceptableStatuses, httpTimeout, probeImage } = input.settings;
  const response = await httpProbe(input.host, plan, {
    service: target.service,
    port: target.port,
    path: healthPath,
    timeoutMs: httpTimeout,
    ...(target.host ? { hostHeader: target.host } : {}),
    ...(probeImage ? { image: probeImage } : {}),
  });
  if (!acceptableStatuses.includes(response.status)) {
    throw new TasterError(
      "test",
      `GET http://${target.service}:${target.port}${healthPath} → ${response.status}, not an acceptable status`,
    );
  }
}

/** One row of the fresh tier: what was done, and what broke if it did. */
async function row<T>(rows: TestRow[], name: string, run: () => Promise<T>): Promise<T | undefined> {
  const t0 = Date.now();
  try {
    const value = await run();
    rows.push({ file: "(taster)", name, status: "pass", durationMs: Date.now() - t0 });
    return value;
  } catch (error) {
    // A cancelled run stops here; anything else (no answer, no convergence) is the head's failure.
    if (error instanceof TasterError && error.message.startsWith("interrupted")) throw error;
    rows.push({
      file: "(taster)",
      name,
      status: "fail",
      durationMs: Date.now() - t0,
      failure: errorMessage(error),
    });
    return undefined;
  }
}

/** The opt-in fresh stage of a prepared run: its own stack, counted in the run's ledger apart. */
export async function freshStage(run: PreparedRun): Promise<void> {
  if (!freshWanted(run.stages, run.settings)) return;
  throwIfCancelled(run);
  const fresh = await freshInstall({
    host: run.host,
    dir: run.checkoutDir,
    stack: run.stack,
    domain: run.domain,
    base: run.base?.tag ?? null,
    settings: run.settings,
    headVersion: run.headVersion,
    chaosVersion: run.chaos,
    endpointMode: run.endpointMode,
    redactor: run.redactor,
    ledger: run.ledger,
    ...signalOf(run),
    log: (message) => run.log.event("fresh", message),
  });
  run.record.fresh = fresh;
  const { result } = fresh;
  run.log.event(
    "tier",
    `${result.status.toUpperCase()}${result.reason ? ` — ${result.reason}` : ""}`,
    "fresh",
  );
}
