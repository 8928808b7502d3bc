import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { infraError, stackNameFor, TasterError, usageError } from "@taster/core";
import { fetchRecipe, gitIn, makeWorkspace, pullRef } from "@taster/recipe";
import { connectHost, planRecipe } from "@taster/swarm";
import type { Command } from "commander";

interface PlanFlags {
  ref?: string;
  pr?: string;
  stack?: string;
  domain?: string;
  env: string[];
  host?: string;
  knownHosts?: string;
  identity?: string;
}

/** The recipe to plan: a directory as it is, or a fresh checkout at a ref (as a run fetches it). */
interface Source {
  dir: string;
  sha: string;
  cleanup(): Promise<void>;
}

const isUrl = (arg: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(arg) || /^[^/]+@[^/]+:/.test(arg);

async function checkoutSource(recipe: string, ref: string | undefined): Promise<Source> {
  const local = !isUrl(recipe);
  if (local && !existsSync(recipe)) throw usageError(`no such recipe directory or git URL: ${recipe}`);
  // A working directory without --ref is planned as it is, uncommitted edits included.
  if (local && ref === undefined && !recipe.endsWith(".git")) {
    const dir = resolve(recipe);
    // Taster's own git (fixed binary and environment), as for every checkout it fetches.
    const sha = await gitIn(dir, 30_000)
      .raw(["rev-parse", "HEAD"])
      .then(
        (stdout) => stdout.trim(),
        () => "worktree",
      );
    return { dir, sha, cleanup: async () => {} };
  }
  const workspace = await makeWorkspace(tmpdir(), "plan");
  try {
    const fetched = await fetchRecipe({
      url: local ? resolve(recipe) : recipe,
      workspace: workspace.dir,
      ...(ref !== undefined ? { ref } : {}),
    });
    return { dir: fetched.dir, sha: fetched.sha, cleanup: workspace.cleanup };
  } catch (error) {
    await workspace.cleanup();
    throw error;
  }
}

function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw usageError(`--env expects KEY=VALUE, got ${JSON.stringify(pair)}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** `--pr N` is `--ref refs/pull/N/head`, as for `taster run`. */
function refOf(flags: PlanFlags): string | undefined {
  if (flags.pr === undefined) return flags.ref;
  if (flags.ref !== undefined) throw usageError("give --pr or --ref, not both");
  if (!/^\d+$/.test(flags.pr) || Number(flags.pr) < 1)
    throw usageError(`--pr must be a positive whole number, not ${JSON.stringify(flags.pr)}`);
  return pullRef(Number(flags.pr));
}

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description(
      "print how a recipe would be deployed (abra env + the Docker CLI's compose rendering) as JSON",
    )
    .argument("<recipe>", "recipe: a directory or a git URL")
    .option("--ref <ref>", "ref to plan (tag, branch, refs/pull/N/head); clones the recipe")
    .option("--pr <n>", "pull request number (plans refs/pull/<n>/head, as `run --pr`)")
    .option("--stack <name>", "stack name (default: derived from the recipe and commit)")
    .option("--domain <domain>", "app domain (default: <stack>.taster.test)")
    .option(
      "--env <KEY=VALUE>",
      "override an env value (repeatable)",
      (value: string, all: string[]) => [...all, value],
      [],
    )
    .option("--host <url>", "Docker host whose CLI renders the compose files", process.env.DOCKER_HOST)
    .option("--known-hosts <file>", "known_hosts for an ssh:// host")
    .option("--identity <file>", "private key for an ssh:// host")
    .action(async (recipe: string, flags: PlanFlags) => {
      const overrides = parseEnv(flags.env);
      const ref = refOf(flags);
      const source = await checkoutSource(recipe, ref);
      try {
        const key = { repo: recipe, pr: 0, sha: source.sha };
        const stack = flags.stack ?? stackNameFor(key);
        const host = await connectHost(flags.host ?? "unix:///var/run/docker.sock", {
          ...(flags.knownHosts ? { knownHostsPath: flags.knownHosts } : {}),
          ...(flags.identity ? { privateKeyPath: flags.identity } : {}),
        }).catch((error: unknown) => {
          throw error instanceof TasterError ? error : infraError("cannot reach the Docker host", error);
        });
        try {
          const plan = await planRecipe(host, {
            dir: source.dir,
            stack,
            // The same shape as a run's domain (domainFor), so a plan shows what a run would deploy.
            domain: flags.domain ?? `${stack}.taster.test`,
            env: overrides,
            envFrom: "--env",
          });
          const { rendered: _rendered, ...printable } = plan;
          process.stdout.write(
            `${JSON.stringify({ recipe, ref: ref ?? null, sha: source.sha, ...printable }, null, 2)}\n`,
          );
        } finally {
          await host.close();
        }
      } finally {
        await source.cleanup();
      }
    });
}
