import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { readConfig, type TasterConfig } from "@taster/config";
import { usageError } from "@taster/core";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_SWEEP_ATTEMPTS,
  pickTargets,
  prepareSweepDir,
  runSweep,
  type SweepTarget,
  sweepTable,
} from "@taster/harness";
import { recipeSources, sweepTargets } from "@taster/worker";

import type { Command } from "commander";

interface SweepFlags {
  recipes?: string;
  out: string;
  host?: string;
  knownHosts?: string;
  identity?: string;
  attempts?: string;
  idleTimeout: string;
  recipesTests?: string;
}

/**
 * The enrolled recipes: TASTER_ENROLLED_REPOS (fetched as the worker fetches them: from their own
 * forge, or TASTER_RECIPE_SOURCE) when set, else every sample recipe the lab published (its
 * lab.json), so the sweep works on the lab as it is.
 */
function enrolled(config: TasterConfig, say: (line: string) => void): SweepTarget[] {
  if (config.intake.enrolledRepos.length > 0) {
    const source = recipeSources({
      ...(config.given.has("TASTER_RECIPE_SOURCE") ? { template: config.worker.recipeSource } : {}),
      githubApiUrl: config.forge.github.apiUrl,
      ...(config.forge.gitea.url ? { giteaUrl: config.forge.gitea.url } : {}),
    });
    return sweepTargets(config.intake.enrolledRepos, source, say);
  }
  const labJson = join(config.paths.labDir, "lab.json");
  if (!existsSync(labJson)) return [];
  const lab = JSON.parse(readFileSync(labJson, "utf8")) as { recipesDir: string; recipes: string[] };
  return lab.recipes.map((name) => ({
    recipe: name,
    repo: `lab/${name}`,
    source: join(lab.recipesDir, `${name}.git`),
  }));
}

function wholeNumber(value: string, flag: string, min = 0): number {
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw usageError(`${flag} must be a whole number ≥ ${min}, not ${JSON.stringify(value)}`);
  return Number(value);
}

export function registerSweep(program: Command): void {
  program
    .command("sweep")
    .description(
      "test every enrolled recipe at its newest release (upgrade from the previous one, all tiers); re-run failed tiers alone to tell flakes from real failures",
    )
    .option("--recipes <list>", "only these recipes, comma-separated (default: every enrolled recipe)")
    .option("--out <dir>", "where sweep.json and each recipe's results go", ".taster/sweep")
    .option("--host <url>", "Docker host (default: the first of TASTER_HOSTS)")
    .option("--known-hosts <file>", "for an ssh:// host: the known_hosts file its key is checked against")
    .option("--identity <file>", "for an ssh:// host: the private key to log in with")
    .option(
      "--attempts <n>",
      `re-runs of a failed tier, alone on the host (default: TASTER_SWEEP_ATTEMPTS, else ${DEFAULT_SWEEP_ATTEMPTS})`,
    )
    .option(
      "--idle-timeout <seconds>",
      "how long a re-run waits for other Taster stacks to leave the host",
      String(DEFAULT_IDLE_TIMEOUT_MS / 1000),
    )
    .option("--recipes-tests <dir>", "overlays directory (default: recipes-tests/)")
    .action(async (flags: SweepFlags) => {
      const config = readConfig(process.env);
      const attempts =
        flags.attempts === undefined ? config.sweep.attempts : wholeNumber(flags.attempts, "--attempts");
      const idleTimeoutMs = wholeNumber(flags.idleTimeout, "--idle-timeout") * 1000;
      const wanted = flags.recipes
        ?.split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (flags.recipes !== undefined && !wanted?.length) throw usageError("--recipes names no recipe");
      const targets = pickTargets(
        enrolled(config, (line) => process.stderr.write(`${line}\n`)),
        wanted,
      );
      if (targets.length === 0)
        throw usageError(
          "no recipe is enrolled",
          "set TASTER_ENROLLED_REPOS, or run ./taster lab up for the lab's",
        );
      const hostUrl = flags.host ?? config.hosts.hosts[0]?.url ?? config.hosts.dockerHost;
      const outDir = resolve(flags.out);
      await prepareSweepDir(outDir);
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const started = Date.now();
      const say = (line: string) => {
        const at = `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`;
        process.stderr.write(`${at} ${line}\n`);
      };
      try {
        const sweep = await runSweep({
          targets,
          outDir,
          hostUrl,
          hostOptions: {
            ...(flags.knownHosts ? { knownHostsPath: resolve(flags.knownHosts) } : {}),
            ...(flags.identity ? { privateKeyPath: resolve(flags.identity) } : {}),
          },
          attempts,
          idleTimeoutMs,
          run: {
            ...(flags.recipesTests ? { recipesTestsDir: resolve(flags.recipesTests) } : {}),
            secrets: config.secrets,
          },
          signal: controller.signal,
          onEvent: (recipe, message) => say(`${recipe}: ${message}`),
          onRunEvent: (recipe, e) =>
            say(`${recipe} › ${e.tier ? `${e.tier} › ` : ""}${e.step}: ${e.message}`),
        });
        process.stdout.write(`\n${sweepTable(sweep)}\n\nsweep: ${join(outDir, "sweep.json")}\n`);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
