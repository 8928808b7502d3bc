import { readConfig, type TasterConfig } from "@taster/config";
import { errorMessage, stackNameFor } from "@taster/core";
import { connectRedis, Keys, RunStore, whenReady } from "@taster/queue";
import { connectHost, type Host, janitor, listKnownGoods, STACK_LABEL } from "@taster/swarm";
import type { Command } from "commander";

interface JanitorFlags {
  host?: string;
  remove?: boolean;
  minAge: string;
  keep: string[];
  prefix?: string;
}

/** Stacks of runs the run store says are running: never touched. */
async function runningStacks(redisUrl: string, prefix: string): Promise<Set<string>> {
  const redis = connectRedis(redisUrl);
  try {
    await whenReady(redis, 3_000, `Redis at ${redisUrl.replace(/\/\/[^@/]*@/, "//***@")}`);
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

/** Each Taster stack on the host with the age of its newest service (ms). */
async function stackAges(host: Host): Promise<Map<string, number>> {
  const ages = new Map<string, number>();
  for (const service of await host.docker.listServices({ filters: { label: [STACK_LABEL] } })) {
    const stack = service.Spec?.Labels?.[STACK_LABEL];
    if (!stack) continue;
    const age = Date.now() - Date.parse(service.CreatedAt ?? "");
    ages.set(stack, Math.min(age, ages.get(stack) ?? Number.POSITIVE_INFINITY));
  }
  return ages;
}

const minutes = (ms: number) => `${Math.floor(ms / 60_000)} min`;

/** A stack on the host left alone, and why. */
interface Skip {
  stack: string;
  why: string;
}

/**
 * The live runs per Redis (TASTER_REDIS_URL, else the same default Redis as the bridge's), or a
 * loud warning saying what the janitor cannot know without them and what it does instead (only
 * --min-age and --keep protect a run).
 */
async function liveRuns(config: TasterConfig, minAge: string): Promise<Set<string>> {
  const fallback = `only stacks younger than --min-age (${minAge} min) and those given to --keep are left alone, so a live run older than that would be removed under its worker`;
  try {
    return await runningStacks(config.redis.url, config.redis.keyPrefix);
  } catch (error) {
    process.stderr.write(
      config.given.has("TASTER_REDIS_URL")
        ? `janitor: WARNING: cannot read the running runs from Redis (${errorMessage(error)}): ${fallback}.\n`
        : `janitor: WARNING: TASTER_REDIS_URL is not set, so the janitor cannot know which runs are live: ${fallback} (the default Redis: ${errorMessage(error)}). Set TASTER_REDIS_URL (and TASTER_REDIS_PREFIX) to the bridge's Redis.\n`,
    );
    return new Set();
  }
}

export function registerJanitor(program: Command): void {
  program
    .command("janitor")
    .description(
      "find Taster stacks that belong to no live run (dry run unless --remove); says which it skipped and why",
    )
    .option("--host <url>", "the swarm host (default: DOCKER_HOST, else unix:///var/run/docker.sock)")
    .option("--remove", "remove them (default: only list)")
    .option("--min-age <minutes>", "leave stacks younger than this alone (0: none)", "10")
    .option("--keep <stack...>", "stacks to leave alone", [])
    .option("--prefix <text>", "only stacks whose name starts with this")
    .action(async (flags: JanitorFlags) => {
      const config = readConfig();
      const running = await liveRuns(config, flags.minAge);
      const minAgeMs = Number(flags.minAge) * 60_000;
      const host = await connectHost(flags.host ?? config.hosts.dockerHost);
      try {
        const skipped: Skip[] = [];
        for (const [stack, age] of await stackAges(host)) {
          if (flags.prefix && !stack.startsWith(flags.prefix)) continue;
          if (flags.keep.includes(stack)) skipped.push({ stack, why: "given to --keep" });
          else if (running.has(stack)) skipped.push({ stack, why: "its run is running (per Redis)" });
          else if (age < minAgeMs)
            skipped.push({
              stack,
              why: `${minutes(age)} old, younger than --min-age ${flags.minAge} min (it may be a run starting now); once sure no run uses it: taster janitor --min-age 0 --prefix ${stack} --remove`,
            });
        }
        const stacks = await janitor(host, {
          live: new Set([...running, ...flags.keep, ...skipped.map((s) => s.stack)]),
          dryRun: !flags.remove,
          ...(flags.prefix ? { prefix: flags.prefix } : {}),
        });
        const verb = flags.remove ? "removed" : "would remove";
        for (const stack of stacks) process.stdout.write(`${verb} ${stack}\n`);
        for (const s of skipped) process.stdout.write(`skipped ${s.stack}: ${s.why}\n`);
        // Warm known-goods belong to no stack: never candidates, but say they are there.
        const warm = (await listKnownGoods(host)).length;
        if (warm > 0) process.stdout.write(`left alone: ${warm} warm known-good(s) (taster warm list)\n`);
        const tail = skipped.length ? `; ${skipped.length} skipped` : "";
        process.stdout.write(
          stacks.length === 0
            ? `nothing to clean up${tail}\n`
            : flags.remove
              ? `${stacks.length} stack(s) removed, zero residue${tail}\n`
              : `${stacks.length} stack(s)${tail}; run with --remove to remove them\n`,
        );
      } finally {
        await host.close();
      }
    });
}
