import { isAbsolute, resolve } from "node:path";
import { parseStages, usageError } from "@taster/core";
import { resultsTable, runRecipe, SEEDED_STAGES } from "@taster/harness";
import type { Command } from "commander";
import { publishAndSay } from "../publish";
import { repoArgument } from "./allowlist";

interface RunFlags {
  ref?: string;
  pr?: string;
  sha?: string;
  stages?: string;
  host?: string;
  knownHosts?: string;
  identity?: string;
  out: string;
  allowlist?: string;
  repo?: string;
  tierTimeout?: string;
  publish?: boolean;
  quick?: boolean;
}

const EXIT = { pass: 0, fail: 1, error: 2 } as const;

/** A local path stays a path (absolute, so the run's fresh clone finds it); anything else is a URL. */
function sourceOf(arg: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(arg) || /^[^/]+@[^/]+:/.test(arg) || isAbsolute(arg)
    ? arg
    : resolve(arg);
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw usageError(`${flag} must be a positive whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run a recipe's whole lifecycle (deploy once, tiers, teardown) on a swarm host, locally")
    .argument("<recipe>", "recipe repository: a path or a git URL")
    .option("--ref <ref>", "ref to test (default: the repository's HEAD)")
    .option("--pr <n>", "pull request number (tests refs/pull/<n>/head)")
    .option("--sha <sha>", "exact commit to test (default: what the ref points at)")
    .option(
      "--stages <list>",
      "tiers to run, e.g. upgrade,backup (install always runs); add fresh to also install the head from scratch on its own stack",
    )
    .option("--host <url>", "Docker host: unix:///…, tcp://host:port or ssh://user@host:port")
    .option("--known-hosts <file>", "for an ssh:// host: the known_hosts file its key is checked against")
    .option("--identity <file>", "for an ssh:// host: the private key to log in with")
    .option("--out <dir>", "where results.json and run.log are written", ".taster/out")
    .option("--allowlist <file>", "repo-local allowlist (default: allowlist/repo-local.yml)")
    .option(
      "--repo <owner/name>",
      "the recipe's repository: its allowlist pins apply (and it names the stack)",
    )
    .option("--tier-timeout <seconds>", "override the recipe's tierTimeout")
    .option(
      "--quick",
      "upgrade a copy of the recipe's warm known-good on the host to this commit (default stages: upgrade,custom), as !testme quick",
    )
    .option(
      "--publish",
      "store the verdict and log where the dashboard reads runs (TASTER_REDIS_URL/TASTER_REDIS_PREFIX, else the lab's Redis)",
    )
    .action(async (recipe: string, flags: RunFlags) => {
      let stages: ReturnType<typeof parseStages>;
      try {
        stages = flags.quick && flags.stages === undefined ? SEEDED_STAGES : parseStages(flags.stages);
      } catch (error) {
        throw usageError((error as Error).message);
      }
      const pr = positiveInt(flags.pr, "--pr");
      const tierTimeoutSeconds = positiveInt(flags.tierTimeout, "--tier-timeout");
      const controller = new AbortController();
      // First signal: stop and tear down (the run's finally); a second one exits at once.
      let signalled = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signalled += 1;
        if (signalled > 1) process.exit(130);
        process.stderr.write(`\ntaster: ${signal}: stopping, tearing the stack down…\n`);
        controller.abort();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        const results = await runRecipe({
          source: sourceOf(recipe),
          ...(flags.ref ? { ref: flags.ref } : {}),
          ...(pr !== undefined ? { pr } : {}),
          ...(flags.sha ? { sha: flags.sha } : {}),
          stages,
          ...(flags.host ? { hostUrl: flags.host } : {}),
          hostOptions: {
            ...(flags.knownHosts ? { knownHostsPath: resolve(flags.knownHosts) } : {}),
            ...(flags.identity ? { privateKeyPath: resolve(flags.identity) } : {}),
          },
          outDir: resolve(flags.out),
          ...(flags.allowlist ? { allowlistPath: resolve(flags.allowlist) } : {}),
          ...(flags.repo ? { repo: repoArgument(flags.repo, "--repo") } : {}),
          ...(tierTimeoutSeconds ? { tierTimeoutSeconds } : {}),
          ...(flags.quick ? { warm: { fromKnownGood: true } } : {}),
          signal: controller.signal,
          onEvent: (e) => {
            const at = `[${(e.elapsedMs / 1000).toFixed(1).padStart(6)}s]`;
            process.stderr.write(`${at} ${e.tier ? `${e.tier} › ` : ""}${e.step}: ${e.message}\n`);
          },
        });
        process.stdout.write(
          `\n${resultsTable(results)}\n\nresults: ${resolve(flags.out, "results.json")}\n`,
        );
        process.exitCode = EXIT[results.outcome];
        if (flags.publish && !(await publishAndSay(results, stages, resolve(flags.out, "run.log"))))
          process.exitCode = EXIT.error;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
