import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readConfig, type TasterConfig } from "@taster/config";
import { errorMessage, usageError } from "@taster/core";
import { connectRedis } from "@taster/queue";
import { DEFAULT_PROBE_IMAGE } from "@taster/swarm";
import { probeImageOf } from "@taster/worker";
import type { Command } from "commander";
import { type Finding, failed, formatFinding } from "../doctor/finding";
import { checkForges } from "../doctor/forges";
import { checkHost, type HostTarget } from "../doctor/hosts";

/** What to check: the hosts, Redis, and whether the forge is real (the lab's is simulated). */
interface Target {
  hosts: HostTarget[];
  redisUrl: string;
  lab: boolean;
}

const LAB_FIX = "run `./taster lab up`";

/** The machine's one lab (see infra/lab/lab.sh: outside any checkout, shared by every clone). */
function labTarget(paths: TasterConfig["paths"]): Target {
  const labJson = join(paths.labDir, "lab.json");
  const info = existsSync(labJson) ? JSON.parse(readFileSync(labJson, "utf8")) : {};
  return {
    lab: true,
    hosts: [
      {
        name: "lab",
        url: info.dockerHost ?? "unix:///var/run/docker.sock",
        probeImage: info.images?.probe ?? DEFAULT_PROBE_IMAGE,
        labFix: LAB_FIX,
      },
    ],
    redisUrl: info.redisUrl ?? `redis://127.0.0.1:${paths.labRedisPort}`,
  };
}

/** Every host in TASTER_HOSTS (unset: its default, `lab` on DOCKER_HOST), or only the one `--host` names. */
function serviceTarget(config: TasterConfig, only: string | undefined): Target {
  const all = config.hosts.hosts.map((h) => ({ name: h.name, url: h.url }));
  let hosts = all;
  if (only) {
    hosts = all.filter((h) => h.name === only || h.url === only);
    if (hosts.length === 0 && only.includes("://")) hosts = [{ name: "host", url: only }];
    if (hosts.length === 0) {
      throw usageError(
        `--host ${only} is not in TASTER_HOSTS`,
        `give one of: ${all.map((h) => h.name).join(", ")}, or a Docker URL (unix://, tcp://, ssh://)`,
      );
    }
  }
  return {
    lab: false,
    hosts: hosts.map((h) => ({ ...h, probeImage: probeImageOf(h.name, config.hosts.probeImages) })),
    redisUrl: config.redis.url,
  };
}

async function checkRedis(t: Target): Promise<Finding> {
  const redis = connectRedis(t.redisUrl);
  const shown = t.redisUrl.replace(/\/\/[^@/]*@/, "//***@");
  let lastError = "no answer within 3 s";
  // ioredis reports connection failures as events; keep the last one as the reason.
  redis.on("error", (error: Error) => {
    lastError = error.message;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once("ready", resolve);
      setTimeout(() => reject(new Error(lastError)), 3_000).unref();
    });
    await redis.ping();
    return { check: "redis", ok: true, detail: `${shown} answers` };
  } catch (error) {
    const fix = t.lab ? LAB_FIX : "start Redis or set TASTER_REDIS_URL to where it runs (with its password)";
    return { check: "redis", ok: false, detail: `${shown}: ${errorMessage(error)}`, fix };
  } finally {
    redis.disconnect();
  }
}

const LAB_FORGE: Finding[] = [
  { check: "forge", ok: true, detail: "simulated in the lab (no credentials needed)" },
  { check: "webhooks", ok: true, detail: "the demo generates a webhook secret per run" },
];

export async function diagnose(
  opts: { lab?: boolean; host?: string; webhooks?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Promise<Finding[]> {
  const config = readConfig(env);
  const t = opts.lab ? labTarget(config.paths) : serviceTarget(config, opts.host);
  const findings: Finding[] = [];
  // Hosts one after another: each VIP check starts a service, and they share nothing.
  for (const host of t.hosts) findings.push(...(await checkHost(host)));
  findings.push(await checkRedis(t));
  const forges = () => checkForges(config.forge, config.intake.trust.orgMembers, opts.webhooks !== false);
  findings.push(...(t.lab ? LAB_FORGE : await forges()));
  return findings;
}

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description(
      "check what can break: every host in TASTER_HOSTS (engine, swarm manager, probe image, proxy network, VIPs), Redis, every configured forge (reachable, token, scopes) and its webhook secret; exit 1 if anything fails",
    )
    .option("--lab", "check against the local lab's endpoints")
    .option("--host <name|url>", "check only this host (a name or URL from TASTER_HOSTS, or a Docker URL)")
    .option(
      "--no-webhooks",
      "skip the webhook secrets (where only the bridge's app service holds them, e.g. in the worker)",
    )
    .action(async (flags: { lab?: boolean; host?: string; webhooks?: boolean }) => {
      const findings = await diagnose(flags);
      for (const f of findings) process.stdout.write(formatFinding(f));
      const problems = failed(findings);
      process.stdout.write(problems ? `\n${problems} problem(s) found\n` : "\nall good\n");
      process.exitCode = problems ? 1 : 0;
    });
}
