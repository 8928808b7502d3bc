import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { errorMessage } from "@taster/core";
import { connectRedis } from "@taster/queue";
import { checkVips, connectHost, type Host } from "@taster/swarm";
import type { Command } from "commander";

/** Measured afresh (and recorded on the node): either answer is fine, Taster adapts its deploys. */
async function checkVipFinding(host: Host): Promise<Finding> {
  try {
    const check = await checkVips(host, { record: true });
    return {
      check: "vips",
      ok: true,
      detail: check.working
        ? "swarm VIPs answer"
        : "swarm VIPs do not answer (no IPVS?): deploys here use endpoint_mode dnsrr (node label taster.vips)",
    };
  } catch (error) {
    return {
      check: "vips",
      ok: false,
      detail: `could not measure whether swarm VIPs answer: ${errorMessage(error)}`,
      fix: "make sure the probe image is on the host and overlay networks can be created",
    };
  }
}

/** One line of the doctor's report: what was checked, whether it is fine, and how to fix it if not. */
interface Finding {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

interface Target {
  dockerHost: string;
  redisUrl: string;
  /** In the lab the forge is simulated: credential checks do not apply. */
  lab: boolean;
}

/** The machine's one lab (see infra/lab/lab.sh: outside any checkout, shared by every clone). */
const LAB_DIR =
  process.env.TASTER_LAB_DIR ??
  join(process.env.XDG_STATE_HOME ?? join(homedir(), ".local", "state"), "taster-lab");
const LAB_JSON = join(LAB_DIR, "lab.json");
const LAB_FIX = "run `./taster lab up`";

function targetFor(lab: boolean): Target {
  if (lab) {
    const info = existsSync(LAB_JSON) ? JSON.parse(readFileSync(LAB_JSON, "utf8")) : {};
    return {
      lab,
      dockerHost: info.dockerHost ?? "unix:///var/run/docker.sock",
      redisUrl: info.redisUrl ?? `redis://127.0.0.1:${process.env.TASTER_LAB_REDIS_PORT ?? 6390}`,
    };
  }
  return {
    lab,
    dockerHost: process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock",
    redisUrl: process.env.TASTER_REDIS_URL ?? "redis://127.0.0.1:6379",
  };
}

async function checkEngine(t: Target, fixEngine: string): Promise<Finding[]> {
  let host: Awaited<ReturnType<typeof connectHost>> | undefined;
  try {
    host = await connectHost(t.dockerHost);
    const info = await host.docker.info();
    const swarm = info.Swarm ?? {};
    const manager = swarm.LocalNodeState === "active" && swarm.ControlAvailable === true;
    const proxy = (await host.docker.listNetworks({ filters: { name: ["proxy"] } })).find(
      (n) => n.Name === "proxy",
    );
    return [
      { check: "engine", ok: true, detail: `${t.dockerHost} answers (Docker ${info.ServerVersion})` },
      {
        check: "swarm",
        ok: manager,
        detail: manager
          ? "this engine is a swarm manager"
          : `swarm state: ${swarm.LocalNodeState ?? "unknown"}`,
        fix: t.lab ? LAB_FIX : "run `docker swarm init` on the host (or point DOCKER_HOST at a manager)",
      },
      {
        check: "proxy",
        ok: proxy?.Driver === "overlay",
        detail: proxy ? `network 'proxy' (${proxy.Driver})` : "no network named 'proxy'",
        fix: t.lab ? LAB_FIX : "run `docker network create --driver overlay --attachable proxy`",
      },
      ...(manager ? [await checkVipFinding(host)] : []),
    ];
  } catch (error) {
    const detail = `no Docker engine at ${t.dockerHost}: ${errorMessage(error)}`;
    return [
      { check: "engine", ok: false, detail, fix: fixEngine },
      { check: "swarm", ok: false, detail: "(engine unreachable)", fix: fixEngine },
      { check: "proxy", ok: false, detail: "(engine unreachable)", fix: fixEngine },
    ];
  } finally {
    await host?.close().catch(() => {});
  }
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
    const fix = t.lab ? LAB_FIX : "start Redis or set TASTER_REDIS_URL to where it runs";
    return { check: "redis", ok: false, detail: `${shown}: ${errorMessage(error)}`, fix };
  } finally {
    redis.disconnect();
  }
}

/** GitHub classic tokens list their scopes in X-OAuth-Scopes; fine-grained tokens list none. */
async function checkGithubToken(apiUrl: string, token: string): Promise<Finding> {
  try {
    const response = await fetch(`${apiUrl.replace(/\/+$/, "")}/user`, {
      headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github+json" },
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) {
      return {
        check: "forge",
        ok: false,
        detail: `GitHub rejected TASTER_GITHUB_TOKEN (HTTP ${response.status})`,
        fix: "create a new token with the repo scope (or a GitHub App) and set TASTER_GITHUB_TOKEN",
      };
    }
    const scopes = response.headers.get("x-oauth-scopes");
    const enough = scopes === null || /\b(public_)?repo\b/.test(scopes);
    return {
      check: "forge",
      ok: enough,
      detail: `GitHub token works${scopes === null ? "" : ` (scopes: ${scopes || "none"})`}`,
      fix: "the token needs the repo (or public_repo) scope to comment and set commit statuses",
    };
  } catch (error) {
    return {
      check: "forge",
      ok: false,
      detail: `GitHub API at ${apiUrl} unreachable: ${errorMessage(error)}`,
      fix: "check TASTER_GITHUB_API_URL and the network",
    };
  }
}

async function checkForge(t: Target): Promise<Finding[]> {
  if (t.lab) {
    return [
      { check: "forge", ok: true, detail: "simulated in the lab (no credentials needed)" },
      { check: "webhooks", ok: true, detail: "the demo generates a webhook secret per run" },
    ];
  }
  const env = process.env;
  const secret = Boolean(env.TASTER_GITHUB_WEBHOOK_SECRET || env.TASTER_GITEA_WEBHOOK_SECRET);
  const webhooks: Finding = {
    check: "webhooks",
    ok: secret,
    detail: secret ? "a webhook secret is set" : "no webhook secret: the bridge will refuse to start",
    fix: "set TASTER_GITHUB_WEBHOOK_SECRET (and/or TASTER_GITEA_WEBHOOK_SECRET) to the forge's webhook secret",
  };
  if (env.TASTER_GITHUB_TOKEN) {
    const api = env.TASTER_GITHUB_API_URL ?? "https://api.github.com";
    return [await checkGithubToken(api, env.TASTER_GITHUB_TOKEN), webhooks];
  }
  const gitea = Boolean(env.TASTER_GITEA_URL && env.TASTER_GITEA_TOKEN);
  const forge: Finding = {
    check: "forge",
    ok: gitea,
    detail: gitea ? `Gitea at ${env.TASTER_GITEA_URL}` : "no forge credentials",
    fix: "set TASTER_GITHUB_TOKEN, or TASTER_GITEA_URL and TASTER_GITEA_TOKEN",
  };
  return [forge, webhooks];
}

export async function diagnose(lab: boolean): Promise<Finding[]> {
  const t = targetFor(lab);
  const fixEngine = lab ? LAB_FIX : "start the Docker engine or set DOCKER_HOST to a reachable swarm manager";
  return [...(await checkEngine(t, fixEngine)), await checkRedis(t), ...(await checkForge(t))];
}

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("check what Taster needs (engine, swarm, proxy network, Redis, forge, webhook secret)")
    .option("--lab", "check against the local lab's endpoints")
    .action(async (flags: { lab?: boolean }) => {
      const findings = await diagnose(Boolean(flags.lab));
      for (const f of findings) {
        process.stdout.write(`${f.ok ? "ok  " : "FAIL"}  ${f.check.padEnd(8)} ${f.detail}\n`);
        if (!f.ok && f.fix) process.stdout.write(`${" ".repeat(15)}fix: ${f.fix}\n`);
      }
      const failed = findings.filter((f) => !f.ok).length;
      process.stdout.write(failed ? `\n${failed} problem(s) found\n` : "\nall good\n");
      process.exitCode = failed ? 1 : 0;
    });
}
