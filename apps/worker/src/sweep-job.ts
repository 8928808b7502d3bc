/**
 * The worker's side of scheduled sweeps: a `sweep` job (added by the host's job scheduler, see
 * @taster/queue sweeps.ts) runs the sweep of the enrolled recipes routed to this host, one recipe
 * after another in the one capacity slot the job holds; the summary goes to the sweep store for the
 * dashboard and its level changes to the webhook.
 */
import { join } from "node:path";
import type { Sweep } from "@taster/contracts";
import type { SweepStore } from "@taster/queue";
import type { ConnectOptions } from "@taster/swarm";

export interface SweepTargetSpec {
  recipe: string;
  repo: string;
  source: string;
}

export interface SweepRunnerOptions {
  hostUrl: string;
  hostOptions?: ConnectOptions;
  probeImage?: string;
  dataDir: string;
  targets: SweepTargetSpec[];
  attempts: number;
  store: SweepStore;
  /** Called with the sweep before and the new one (level-change notices). */
  onSwept?: (previous: Sweep | undefined, sweep: Sweep) => Promise<void>;
  secrets?: string[];
}

export type SweepRunner = (signal: AbortSignal | undefined) => Promise<Sweep>;

export function createSweepRunner(options: SweepRunnerOptions): SweepRunner {
  return async (signal) => {
    const { prepareSweepDir, runSweep } = await import("@taster/harness");
    const outDir = join(options.dataDir, "sweeps", new Date().toISOString().replace(/[:.]/g, "-"));
    await prepareSweepDir(outDir);
    const previous = (await options.store.recent(1))[0];
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
    await options.store.save(sweep);
    await options.onSwept?.(previous, sweep);
    return sweep;
  };
}
