import { errorMessage, stackNameFor } from "@taster/core";
import { connectRedis, Keys, RunStore } from "@taster/queue";
import { connectHost, type Host, janitor, STACK_LABEL } from "@taster/swarm";
import type { Command } from "commander";

interface JanitorFlags {
  host: string;
  remove?: boolean;
  minAge: string;
  keep: string[];
  prefix?: string;
}

/** Stacks of runs the run store says are running: never touched. */
async function runningStacks(redisUrl: string, prefix: string): Promise<Set<string>> {
  const redis = connectRedis(redisUrl);
  redis.on("error", () => {}); // reported below as one clear line
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once("ready", resolve);
      setTimeout(() => reject(new Error(`Redis at ${redisUrl} did not answer`)), 3_000).unref();
    });
    const runs = await new RunStore(redis, new Keys(prefix)).listRuns(1_000);
    return new Set(
      runs
        .filter((r) => r.state === "running" || r.state === "claimed")
        .map((r) => stackNameFor({ repo: r.job.repo, pr: r.job.pr, sha: r.job.sha })),
    );
  } finally {
    redis.disconnect();
  }
}

/** Stacks with a service created less than `minAgeMs` ago: possibly a run another Taster started just now. */
async function youngStacks(host: Host, minAgeMs: number): Promise<Set<string>> {
  const young = new Set<string>();
  for (const service of await host.docker.listServices({ filters: { label: [STACK_LABEL] } })) {
    const stack = service.Spec?.Labels?.[STACK_LABEL];
    const created = Date.parse(service.CreatedAt ?? "");
    if (stack && Date.now() - created < minAgeMs) young.add(stack);
  }
  return young;
}

export function registerJanitor(program: Command): void {
  program
    .command("janitor")
    .description("find Taster stacks that belong to no live run (dry run unless --remove)")
    .option("--host <url>", "the swarm host", process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock")
    .option("--remove", "remove them (default: only list)")
    .option("--min-age <minutes>", "leave stacks younger than this alone", "10")
    .option("--keep <stack...>", "stacks to leave alone", [])
    .option("--prefix <text>", "only stacks whose name starts with this")
    .action(async (flags: JanitorFlags) => {
      const live = new Set(flags.keep);
      const redisUrl = process.env.TASTER_REDIS_URL;
      if (redisUrl) {
        try {
          for (const s of await runningStacks(redisUrl, process.env.TASTER_REDIS_PREFIX ?? "taster"))
            live.add(s);
        } catch (error) {
          process.stderr.write(
            `janitor: cannot read running runs (${errorMessage(error)}); relying on --min-age\n`,
          );
        }
      }
      const host = await connectHost(flags.host);
      try {
        for (const s of await youngStacks(host, Number(flags.minAge) * 60_000)) live.add(s);
        const stacks = await janitor(host, {
          live,
          dryRun: !flags.remove,
          ...(flags.prefix ? { prefix: flags.prefix } : {}),
        });
        const verb = flags.remove ? "removed" : "would remove";
        for (const stack of stacks) process.stdout.write(`${verb} ${stack}\n`);
        process.stdout.write(
          stacks.length === 0
            ? "nothing to clean up\n"
            : flags.remove
              ? `${stacks.length} stack(s) removed, zero residue\n`
              : `${stacks.length} stack(s); run with --remove to remove them\n`,
        );
      } finally {
        await host.close();
      }
    });
}
