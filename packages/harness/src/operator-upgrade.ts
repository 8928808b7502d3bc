import { recipeError, TasterError } from "@taster/core";
import {
  type AppEnvFile,
  newReleaseNotes,
  type OperatorSteps,
  operatorSteps,
  varsWithoutDefault,
  withAddedLines,
} from "@taster/recipe";
import { appLabel, type Host, missingSecrets, type Plan, planRecipe, type RenderCache } from "@taster/swarm";

/** What the upgrade deploys, planned with the operator's env, and what a release note had Taster do. */
export interface OperatorUpgrade {
  plan: Plan;
  env: AppEnvFile;
  /** Secrets (compose names) a release note tells operators to generate or insert. */
  secretsToCreate: string[];
  /** One line per step taken because of a note, for the log and the report. */
  applied: string[];
}

export interface OperatorUpgradeInput {
  host: Host;
  stack: string;
  domain: string;
  /** taster.yml `env`: applies to every deploy, as an operator's own settings would. */
  overrides: Record<string, string>;
  /** The app's `.env`, made at install from the base release (app-env.ts). */
  appEnv: AppEnvFile;
  base: { tag: string; dir: string; plan: Plan };
  headDir: string;
  /** Fallback name of the note to write when the head declares no version label. */
  headVersion: string;
  /** The run's renderings (lint rendered the head with its own .env.sample). */
  renders?: RenderCache;
}

/**
 * An operator upgrading runs `abra app upgrade`: the head's compose files and abra.sh, with the
 * `.env` they made at `abra app new` from the base release, plus what the new release notes tell
 * them to add. Whatever the head needs that this env still lacks (a variable without a default,
 * a secret that was never generated, a COMPOSE_FILE entry) is a recipe error before anything is
 * deployed, naming each and the two fixes.
 */
export async function planOperatorUpgrade(input: OperatorUpgradeInput): Promise<OperatorUpgrade> {
  const notes = await newReleaseNotes(input.headDir, input.base.dir);
  const steps = operatorSteps(notes);
  const known = new Set(Object.keys(input.base.plan.env));
  const toAdd = dedupe(steps.env.filter((line) => !known.has(line.key)));
  const env = withAddedLines(input.appEnv, toAdd);
  const applied = toAdd.map((line) => `added ${line.key} to the app env as ${line.from} says`);
  const plan = await planHead(input, env);
  const lacking = [
    ...(await lackingVars(input, plan)),
    ...(await lackingSecrets(input.host, plan, steps, applied)),
  ];
  if (lacking.length > 0) throw lackingError(input, plan, env, lacking);
  const secretsToCreate = steps.allSecrets
    ? plan.secrets.map((s) => s.name)
    : steps.secrets.map((s) => s.name).filter((name) => plan.secrets.some((s) => s.name === name));
  return { plan, env, secretsToCreate, applied };
}

async function planHead(input: OperatorUpgradeInput, env: AppEnvFile): Promise<Plan> {
  try {
    return await planRecipe(input.host, {
      dir: input.headDir,
      stack: input.stack,
      domain: input.domain,
      env: input.overrides,
      envFile: { text: env.text, name: env.name },
      ...(input.renders ? { renders: input.renders } : {}),
    });
  } catch (error) {
    if (error instanceof TasterError && error.kind === "recipe" && /COMPOSE_FILE entry/.test(error.message)) {
      throw recipeError(
        `upgrading an existing install fails: ${error.message}. Fix: keep that compose file, or tell operators to change COMPOSE_FILE in a release note (release/${input.headVersion})`,
      );
    }
    throw error;
  }
}

/** Variables the head's compose needs without a default that the env lacks (and the base did not already lack). */
async function lackingVars(input: OperatorUpgradeInput, head: Plan): Promise<string[]> {
  const needHead = await varsWithoutDefault(head.dir, head.composeFiles);
  const needBase = await varsWithoutDefault(input.base.dir, input.base.plan.composeFiles);
  const out: string[] = [];
  for (const [name, file] of needHead) {
    if (name in head.env) continue;
    if (needBase.has(name) && !(name in input.base.plan.env)) continue;
    out.push(`variable ${name} (used in ${file} without a default)`);
  }
  return out;
}

/** Secrets the head uses that were never generated, unless a note has operators create them. */
async function lackingSecrets(
  host: Host,
  head: Plan,
  steps: OperatorSteps,
  applied: string[],
): Promise<string[]> {
  const out: string[] = [];
  for (const secret of await missingSecrets(host, head)) {
    const note = steps.secrets.find((s) => s.name === secret.name);
    if (steps.allSecrets || note) {
      applied.push(`created secret ${secret.name} as ${note?.from ?? "a release note (--all)"} says`);
      continue;
    }
    out.push(`secret ${secret.name} (${secret.fullName} was never generated)`);
  }
  return out;
}

/** The recipe's own `coop-cloud.<stack>.version` label on the app service, as its compose files declare it. */
export function declaredVersion(plan: Plan | undefined): string | null {
  const app = plan?.services.find((s) => s.name === plan.appService);
  return (plan && app?.labels[appLabel(plan.stack, "version")]) ?? null;
}

function lackingError(
  input: OperatorUpgradeInput,
  head: Plan,
  env: AppEnvFile,
  lacking: string[],
): TasterError {
  const version = declaredVersion(head) ?? input.headVersion;
  return recipeError(
    `the head needs what an existing install's ${env.name} does not have: ${lacking.join("; ")}. ` +
      `abra app upgrade from ${input.base.tag} would fail for every operator. ` +
      `Fix: give each a default in the compose file (e.g. \${NAME:-value}), or tell operators what to add in a release note release/${version} ` +
      `(a line \`NAME=value\`, \`abra app secret generate <app> <secret> v1\`); see docs/swarm.md`,
  );
}

function dedupe<T extends { key: string }>(lines: T[]): T[] {
  const seen = new Set<string>();
  return lines.filter((line) => !seen.has(line.key) && seen.add(line.key));
}
