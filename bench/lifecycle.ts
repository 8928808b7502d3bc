// Full hello-web lifecycle through Taster vs (a) a plain script doing the same raw Docker
// operations with the docker CLI, and (b) a naive harness that deploys afresh for every tier.
// All three check the same things, custom tier included (what recipes-tests/hello-web/custom
// asserts: the pinned image version, its page, a 404), so the ratios compare like with like.
// All three run here, in this process, against the lab's swarm; figures are ratios within this run.
//   ./node_modules/.bin/tsx bench/lifecycle.ts [rounds=1]
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redactor } from "@taster/core";
import { type Results, runRecipe } from "@taster/harness";
import { ensureLab, recipeRepo } from "@taster/lab";
import { fetchRecipe, pullRef, resolveRef } from "@taster/recipe";
import {
  backupStack,
  connectHost,
  deployStack,
  ensureSecrets,
  execInService,
  type Host,
  httpProbe,
  type Plan,
  planRecipe,
  restoreStack,
  teardownStack,
  waitForConvergence,
} from "@taster/swarm";

const run = promisify(execFile);
const rounds = Number(process.argv[2] ?? 1);
const lab = await ensureLab();
const repo = recipeRepo(lab, "hello-web");
const env = { ...process.env, DOCKER_HOST: lab.dockerHost };
const docker = async (...args: string[]) => (await run("docker", args, { env, maxBuffer: 64 << 20 })).stdout;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let counter = 0;
/** Per-phase durations of each contender, every round: the breakdown printed at the end. */
const PHASES = ["prepare", "install", "upgrade", "backup", "restore", "custom", "teardown"] as const;
type Phase = (typeof PHASES)[number];
const phaseTimes = { taster: new Map<Phase, number[]>(), plain: new Map<Phase, number[]>() };
const recordPhase = (who: keyof typeof phaseTimes, phase: Phase, ms: number) =>
  phaseTimes[who].set(phase, [...(phaseTimes[who].get(phase) ?? []), ms]);
/** The plain script's clock: each call closes the phase since the previous one. */
function plainClock(): (phase: Phase) => void {
  let last = performance.now();
  return (phase) => {
    const now = performance.now();
    recordPhase("plain", phase, now - last);
    last = now;
  };
}
const taster = { deploy: [] as number[] };
/** Start → the verdict (Taster: onVerdict, before teardown; plain: its last check done). */
const toVerdict = { taster: [] as number[], plain: [] as number[] };
const stackName = (kind: string) => `bench${kind}${process.pid % 10000}x${counter++}`;

// Every contender fetches its own checkouts inside its timed section, as Taster does.
let fetches = 0;
async function checkouts(work: string) {
  work = join(work, `f${fetches++}`);
  const headSha = await resolveRef(repo, pullRef(1));
  const head = await fetchRecipe({ url: repo, ref: pullRef(1), sha: headSha, workspace: join(work, "h") });
  const base = await fetchRecipe({ url: repo, ref: "refs/tags/1.1.0+1.1", workspace: join(work, "b") });
  return { head: head.dir, base: base.dir };
}

/** What a script would do: git clone the PR head and the base release. */
async function plainCheckouts(work: string): Promise<{ head: string; base: string }> {
  const dir = join(work, `plain${fetches++}`);
  const git = (...args: string[]) => run("git", args);
  await git("clone", "-q", repo, join(dir, "head"));
  await git("-C", join(dir, "head"), "fetch", "-q", "origin", "refs/pull/1/head");
  await git("-C", join(dir, "head"), "checkout", "-q", "FETCH_HEAD");
  await git("clone", "-q", "--branch", "1.1.0+1.1", repo, join(dir, "base"));
  return { head: join(dir, "head"), base: join(dir, "base") };
}

// ---- (a) the plain script: what a person would type, no checks beyond "it is healthy" ----------
async function waitHealthy(stack: string): Promise<void> {
  for (;;) {
    const out = await docker(
      "ps",
      "--filter",
      `label=com.docker.stack.namespace=${stack}`,
      "--format",
      "{{.Status}}",
    );
    const lines = out.trim().split("\n").filter(Boolean);
    if (lines.length > 0 && lines.every((l) => l.includes("(healthy)"))) return;
    await sleep(200);
  }
}
async function container(stack: string): Promise<string> {
  return (
    (await docker("ps", "-q", "--filter", `label=com.docker.swarm.service.name=${stack}_app`))
      .trim()
      .split("\n")[0] ?? ""
  );
}
async function plainLifecycle(work: string): Promise<void> {
  const started = performance.now();
  const phase = plainClock();
  const dirs = await plainCheckouts(work);
  const stack = stackName("p");
  const deployEnv = { ...env, STACK_NAME: stack, DOMAIN: `${stack}.taster.test` };
  const deploy = (dir: string) =>
    run(
      "docker",
      ["stack", "deploy", "--resolve-image", "never", "--detach=true", "-c", "compose.yml", stack],
      {
        cwd: dir,
        env: deployEnv,
      },
    );
  const probe = (path = "/") =>
    docker(
      "run",
      "--rm",
      "--network",
      "proxy",
      lab.images.probe,
      "wget",
      "-q",
      "-O",
      "-",
      `http://tasks.${stack}_app${path}`,
    );
  try {
    phase("prepare");
    await deploy(dirs.base);
    await waitHealthy(stack);
    await probe();
    phase("install");
    const old = await container(stack);
    await deploy(dirs.head);
    while ((await container(stack)) === old || !(await container(stack))) await sleep(200);
    await waitHealthy(stack);
    await probe();
    phase("upgrade");
    const id = await container(stack);
    await docker("exec", id, "sh", "-c", "echo seed > /var/www/.m");
    const tar = join(tmpdir(), `${stack}.tar`);
    await docker("cp", `${id}:/var/www`, tar);
    phase("backup");
    await docker("exec", id, "sh", "-c", "echo changed > /var/www/.m");
    await docker("cp", tar, `${id}:/var/`);
    await rm(tar, { force: true, recursive: true });
    await probe();
    phase("restore");
    // What hello-web's custom tests check (recipes-tests/hello-web/custom/serving.test.ts): the
    // image version the head pins, its page, and a 404 for a page that does not exist.
    const version = (await docker("exec", await container(stack), "cat", "/etc/web-version")).trim();
    if (version !== "1.1") throw new Error(`plain: web version ${version}, expected 1.1`);
    await probe("/index.html");
    const missing = await probe("/no-such-page").then(
      () => "answered",
      () => "404",
    );
    if (missing !== "404") throw new Error("plain: /no-such-page answered, expected a 404");
    toVerdict.plain.push(performance.now() - started);
    phase("custom");
  } finally {
    const t0 = performance.now();
    await docker("stack", "rm", stack);
    while ((await docker("ps", "-aq", "--filter", `label=com.docker.stack.namespace=${stack}`)).trim())
      await sleep(200);
    for (;;) {
      const volumes = (
        await docker("volume", "ls", "-q", "--filter", `label=com.docker.stack.namespace=${stack}`)
      ).trim();
      if (!volumes) break;
      await docker("volume", "rm", ...volumes.split("\n")).catch(() => sleep(200));
    }
    while (
      (await docker("network", "ls", "-q", "--filter", `label=com.docker.stack.namespace=${stack}`)).trim()
    )
      await sleep(200);
    recordPhase("plain", "teardown", performance.now() - t0);
  }
}

// ---- (b) the naive harness: a fresh deployment (and teardown) for every tier --------------------
async function naiveLifecycle(host: Host, work: string): Promise<void> {
  const dirs = await checkouts(work);
  const redactor = new Redactor();
  const up = async (dir: string, stack: string, chaos: boolean): Promise<Plan> => {
    const plan = await planRecipe(host, { dir, stack, domain: `${stack}.taster.test` });
    await ensureSecrets(host, plan, redactor);
    await deployStack(host, plan, { chaos, chaosVersion: "00000000" });
    await waitForConvergence(host, plan);
    return plan;
  };
  const tier = async (body: (stack: string) => Promise<void>) => {
    const stack = stackName("n");
    try {
      await body(stack);
    } finally {
      await teardownStack(host, stack);
    }
  };
  const artifacts = await mkdtemp(join(tmpdir(), "bench-naive-"));
  try {
    await tier(async (s) => void (await httpProbe(host, await up(dirs.head, s, true), { path: "/" })));
    await tier(async (s) => {
      await up(dirs.base, s, false);
      await httpProbe(host, await up(dirs.head, s, true), { path: "/" });
    });
    await tier(async (s) => void (await backupStack(host, await up(dirs.head, s, true), artifacts)));
    await tier(async (s) => {
      const plan = await up(dirs.head, s, true);
      const artifact = await backupStack(host, plan, artifacts);
      await restoreStack(host, plan, artifact);
      await waitForConvergence(host, plan);
      await httpProbe(host, plan, { path: "/" });
    });
    // custom: what hello-web's custom tests check, on a deployment of its own as well.
    await tier(async (s) => {
      const plan = await up(dirs.head, s, true);
      await execInService(host, s, plan.appService, ["cat", "/etc/web-version"]);
      await httpProbe(host, plan, { path: "/index.html" });
      await httpProbe(host, plan, { path: "/no-such-page" });
    });
  } finally {
    await rm(artifacts, { recursive: true, force: true });
  }
}

/** Taster's phases from its own results: each tier's total, the teardown, and the rest (prepare). */
function recordTasterPhases(results: Results): void {
  let tiers = 0;
  for (const tier of ["install", "upgrade", "backup", "restore", "custom"] as const) {
    const ms = results.tiers[tier]?.timings.totalMs ?? 0;
    tiers += ms;
    recordPhase("taster", tier, ms);
  }
  recordPhase("taster", "teardown", results.timings.teardownMs);
  recordPhase("taster", "prepare", results.timings.totalMs - tiers - results.timings.teardownMs);
  taster.deploy.push(results.timings.deployMs);
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const work = await mkdtemp(join(tmpdir(), "bench-lifecycle-"));
const host = await connectHost(lab.dockerHost);
try {
  const figures = { taster: [] as number[], plain: [] as number[], naive: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    figures.taster.push(
      await time(async () => {
        const results = await runRecipe({
          onVerdict: () => void toVerdict.taster.push(performance.now() - started),
          source: repo,
          pr: 1,
          hostUrl: lab.dockerHost,
          workRoot: work,
          nameSalt: `bench-${process.pid}-${i}`,
        });
        recordTasterPhases(results);
        if (results.outcome !== "pass") {
          const failed = Object.values(results.tiers).flatMap((t) =>
            t.tests.filter((r) => r.status !== "pass"),
          );
          throw new Error(`taster run did not pass: ${results.error ?? JSON.stringify(failed, null, 2)}`);
        }
      }),
    );
    figures.plain.push(await time(() => plainLifecycle(work)));
    figures.naive.push(await time(() => naiveLifecycle(host, work)));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const t = median(figures.taster);
  const p = median(figures.plain);
  const n = median(figures.naive);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  console.log(`hello-web full lifecycle, median of ${rounds} round(s):`);
  console.log(`  taster (deploy once, all tiers, assertions, teardown): ${s(t)}`);
  console.log(`  plain docker CLI script (same ops and checks):         ${s(p)}`);
  console.log(`  naive deploy-per-tier harness:                         ${s(n)}`);
  console.log(
    `  overhead vs plain: ${((t / p - 1) * 100).toFixed(0)}% (target ≤ 10%)  ratio ${(t / p).toFixed(2)}`,
  );
  console.log(`  speed-up vs naive: ${(n / t).toFixed(2)}× (target ≥ 2.5×)`);
  const tv = median(toVerdict.taster);
  const pv = median(toVerdict.plain);
  console.log(
    `  time to verdict: taster ${s(tv)} (verdict published before teardown) vs plain ${s(pv)} (its last check)  ratio ${(tv / pv).toFixed(2)}`,
  );
  console.log("  where the time goes (median per phase; a tier's op, its hook and assertions overlap):");
  console.log(
    `    ${"phase".padEnd(10)} ${"taster".padStart(8)} ${"plain".padStart(8)} ${"gap".padStart(8)}`,
  );
  for (const phase of PHASES) {
    const tp = median(phaseTimes.taster.get(phase) ?? []);
    const pp = median(phaseTimes.plain.get(phase) ?? []);
    console.log(
      `    ${phase.padEnd(10)} ${s(tp).padStart(8)} ${s(pp).padStart(8)} ${s(tp - pp).padStart(8)}`,
    );
  }
  console.log(
    `    (taster's two deploys with convergence: ${s(median(taster.deploy))} of install + upgrade)`,
  );
} finally {
  await host.close();
  await rm(work, { recursive: true, force: true });
}
