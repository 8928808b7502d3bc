import { join } from "node:path";
import { createLogger, errorMessage, type Logger, usageError } from "@taster/core";
import { checkVips, connectHost, hasImage, probeImageFix, pullImage } from "@taster/swarm";
import {
  createWorker,
  hostSweep,
  probeImageOf,
  recipeSources,
  reportersFor,
  workerConfigFromEnv,
} from "@taster/worker";
import type { Command } from "commander";

/** `taster worker --host URL [--capacity N]`: consume the host's queue until SIGTERM/SIGINT. */
export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("run queued !testme jobs on one swarm host and report them to the forge")
    .requiredOption("--host <url|name>", "the swarm host (a name or URL from TASTER_HOSTS)")
    .option("--name <queue>", "queue name of the host when --host is a URL not in TASTER_HOSTS")
    .option("--capacity <n>", "runs at once (default: the host's capacity in TASTER_HOSTS, else 1)", Number)
    .action(async (flags: { host: string; name?: string; capacity?: number }) => {
      const config = workerConfigFromEnv(process.env, flags);
      const logger = createLogger("worker");
      const probeImage = probeImageOf(config.host.name, config.probeImages);
      await ensureProbeImage(config.host.name, config.host.url, probeImage, logger);
      await measureVips(config.host.url, probeImage, logger);
      const forges = reportersFor(config);
      const recipeSource = recipeSources({
        ...(config.recipeSource ? { template: config.recipeSource } : {}),
        ...(config.github ? { githubApiUrl: config.github.apiUrl } : {}),
        ...(config.gitea ? { giteaUrl: config.gitea.url } : {}),
        onIgnored: (job, why) => logger.warn(`${job.forge}:${job.repo}: ${why}`),
      });
      const worker = createWorker({
        host: config.host.name,
        hostUrl: config.host.url,
        probeImage,
        capacity: config.host.capacity,
        redisUrl: config.redisUrl,
        // Each run reports to the forge its command came from, and only there.
        forges,
        publicUrl: config.publicUrl,
        keyPrefix: config.keyPrefix,
        bullPrefix: config.bullPrefix,
        ...(config.dataDir ? { dataDir: config.dataDir } : {}),
        recipeSource,
        secrets: config.secrets,
        // Scheduled sweeps of the enrolled recipes routed to this host (docs/sweep.md).
        sweep: hostSweep({
          host: config.host.name,
          hostUrl: config.host.url,
          probeImage,
          dataDir: config.dataDir ?? join(process.cwd(), ".taster", "runs"),
          redisUrl: config.redisUrl,
          keyPrefix: config.keyPrefix,
          config: config.all,
          recipeSource,
          log: (message) => logger.info(message),
        }),
        // The worker's own pino lines (name "worker", redacted), on stderr like this logger's.
        log: (line) => process.stderr.write(`${line}\n`),
      });
      await worker.ready();
      logger.info(
        `taking jobs for ${config.host.name} (${config.host.url}), capacity ${config.host.capacity}; reporting to ${Object.keys(forges).join(" and ")}`,
      );
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          logger.info(`${signal}: no new jobs; bringing active runs to teardown and requeueing them`);
          worker.close().then(resolve, resolve);
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      });
      logger.info("stopped");
    });
}

/**
 * Whether the host's swarm VIPs answer, measured afresh at start and recorded on its node, so every
 * run on it deploys the right way (dnsrr where they do not). Best effort: a run measures it itself
 * when the node has no record.
 */
async function measureVips(url: string, image: string, logger: Logger): Promise<void> {
  try {
    const host = await connectHost(url);
    try {
      const check = await checkVips(host, { image, record: true });
      logger.info(
        check.working
          ? `${url}: swarm VIPs answer`
          : `${url}: swarm VIPs do not answer; deploys use endpoint_mode dnsrr`,
      );
    } finally {
      await host.close();
    }
  } catch (error) {
    logger.warn(
      `${url}: could not measure whether swarm VIPs answer (${errorMessage(error)}); runs will measure it`,
    );
  }
}

/**
 * Every run probes the app with the host's probe image, and a container never pulls its image:
 * without it every run would end in an infrastructure error. So the worker pulls it at start when
 * the host lacks it, and refuses to start (saying the fix) when it cannot.
 */
async function ensureProbeImage(name: string, url: string, image: string, logger: Logger): Promise<void> {
  const host = await connectHost(url);
  try {
    const present = await hasImage(host, image).catch((error) => {
      // An engine down at start is the runs' infrastructure error to retry, as before.
      logger.warn(`${url}: could not check the probe image ${image} (${errorMessage(error)})`);
      return true;
    });
    if (present) return;
    logger.info(`${url}: probe image ${image} is not on the host; pulling it`);
    await pullImage(host, image).catch((error) => {
      throw usageError(
        `host ${name} lacks its probe image, so every run would fail: ${errorMessage(error)}`,
        probeImageFix(image, name),
      );
    });
  } finally {
    await host.close();
  }
}
