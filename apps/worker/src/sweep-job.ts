/**
 * The worker's side of scheduled sweeps: a `sweep` job (added by the host's job scheduler, see
 * @taster/queue sweeps.ts) runs the sweep of the enrolled recipes routed to this host, one recipe
 * after another in the one capacity slot the job holds; the summary goes to the sweep store for the
 * dashboard and its level changes to the webhook.
 */
import { join } from "node:path";
import type { EnrolledRepo, TasterConfig } from "@taster/config";
import type { Sweep } from "@taster/contracts";
import { errorMessage } from "@taster/core";
import type { SweepTarget } from "@taster/harness";
import { connectRedis, SweepStore, whenReady } from "@taster/queue";
import type { ConnectOptions } from "@taster/swarm";
import { levelChanges, notifyLevelChanges } from "./level-notice";
import type { SourceJob } from "./recipe-source";

/**
 * The enrolled recipes as sweep targets, each fetched by the worker's own rule (its forge, or
 * TASTER_RECIPE_SOURCE). A recipe on a forge that rule does not know is left out and said once.
 */
export function sweepTargets(
  enrolled: readonly EnrolledRepo[],
  recipeSource: (job: SourceJob) => string,
  log: (message: string) => void,
): SweepTarget[] {
  return enrolled.flatMap(({ forge, repo }) => {
    const recipe = repo.split("/").at(-1) ?? repo;
    try {
      return [{ recipe, repo, source: recipeSource({ forge, repo, recipe }) }];
    } catch (error) {
      log(`sweep: ${forge}:${repo} left out: ${errorMessage(error)}`);
      return [];
    }
  });
}

export interface SweepRunnerOptions {
  hostUrl: string;
  hostOptions?: ConnectOptions;
  probeImage?: string;
  dataDir: string;
  targets: SweepTarget[];
  attempts: number;
  /** Where the summaries are kept; connected for each sweep only, so an idle worker holds no extra connection. */
  redisUrl: string;
  keyPrefix: string;
  /** Called with the sweep before and the new one (level-change notices). */
  onSwept?: (previous: Sweep | undefined, sweep: Sweep) => Promise<void>;
  secrets?: string[];
}

/** The sweep, or undefined when a shutdown stopped it part-way (then nothing is kept or announced). */
export type SweepRunner = (signal: AbortSignal | undefined) => Promise<Sweep | undefined>;

export function createSweepRunner(options: SweepRunnerOptions): SweepRunner {
  return async (signal) => {
    const { prepareSweepDir, runSweep } = await import("@taster/harness");
    const outDir = join(options.dataDir, "sweeps", new Date().toISOString().replace(/[:.]/g, "-"));
    await prepareSweepDir(outDir);
    const redis = connectRedis(options.redisUrl);
    try {
      await whenReady(redis);
      return await sweepInto(new SweepStore(redis, options.keyPrefix), runSweep, outDir, signal);
    } finally {
      redis.disconnect();
    }
  };

  async function sweepInto(
    store: SweepStore,
    runSweep: typeof import("@taster/harness").runSweep,
    outDir: string,
    signal: AbortSignal | undefined,
  ) {
    const previous = (await store.recent(1))[0];
    const sweep = await runSweep({
      targets: options.targets,
      outDir,
      hostUrl: options.hostUrl,
      ...(options.hostOptions ? { hostOptions: options.hostOptions } : {}),
      attempts: options.attempts,
      run: {
        ...(options.probeImage ? { probeImage: options.probeImage } : {}),
        ...(options.secrets ? { secrets: options.secrets } : {}),
      },
      ...(signal ? { signal } : {}),
    });
    // A partial sweep is not a sweep: its missing rows would read as levels lost. The job is requeued.
    if (signal?.aborted) return undefined;
    await store.save(sweep);
    await options.onSwept?.(previous, sweep);
    return sweep;
  }
}

/** What `taster worker` needs to sweep its host: the enrolled recipes routed to it, the schedule, the webhook. */
export interface HostSweepConfig {
  host: string;
  hostUrl: string;
  probeImage?: string;
  dataDir: string;
  redisUrl: string;
  keyPrefix: string;
  config: TasterConfig;
  /** Where a recipe is fetched from: the worker's own rule (its forge, or TASTER_RECIPE_SOURCE). */
  recipeSource: (job: SourceJob) => string;
  log: (message: string) => void;
}

export function hostSweep(c: HostSweepConfig): { schedule: string | null; run: SweepRunner } {
  const firstHost = c.config.hosts.hosts[0]?.name;
  const targets = sweepTargets(c.config.intake.enrolledRepos, c.recipeSource, c.log).filter(
    ({ recipe }) => (c.config.hosts.recipeHosts[recipe] ?? firstHost) === c.host,
  );
  const webhook = c.config.sweep.webhookUrl;
  const run = createSweepRunner({
    hostUrl: c.hostUrl,
    ...(c.probeImage ? { probeImage: c.probeImage } : {}),
    dataDir: c.dataDir,
    targets,
    attempts: c.config.sweep.attempts,
    redisUrl: c.redisUrl,
    keyPrefix: c.keyPrefix,
    secrets: c.config.secrets,
    onSwept: async (previous, sweep) => {
      if (!webhook) return;
      const sent = await notifyLevelChanges(webhook, levelChanges(previous, sweep), (recipe, why) =>
        c.log(`level-change notice for ${recipe} not delivered: ${why}`),
      );
      if (sent) c.log(`level-change notices sent: ${sent}`);
    },
  });
  return { schedule: targets.length > 0 ? c.config.sweep.schedule : null, run };
}
