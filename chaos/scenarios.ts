/**
 * The scenarios of the reliability scorecard. Each one does something hostile to a fresh World and
 * says what it observed; the invariants are checked by the scorecard afterwards, for every one.
 */
import type { ChildProcess } from "node:child_process";
import { Reconciler } from "../apps/bridge/src/index";
import { signGithub } from "../infra/forge-sim/src/index";
import { createLogger } from "../packages/core/src/index";
import { GithubForge } from "../packages/forge/src/index";
import { spawnWorker, stopWorker } from "./child";
import { type Expectation, verdictOf } from "./invariants";
import type { World, WorldOptions } from "./world";

export interface Scenario {
  id: string;
  did: string;
  expected: string;
  expect: Expectation;
  /** How the scenario's world differs from the default hello-web PR. */
  world?: WorldOptions;
  /** Drives the world; returns what was observed and any problem specific to this scenario. */
  run(world: World): Promise<{ observed: string; problems: string[] }>;
}

const COMMAND = "!testme install";

const duplicates: Scenario = {
  id: "duplicate-deliveries",
  did: "one !testme delivered 20× concurrently with the same delivery id",
  expected: "one run, one verdict",
  expect: { verdicts: 1 },
  async run(world) {
    const id = world.addComment(COMMAND);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => world.deliver(id, COMMAND, `dup-${world.tag}`)),
    );
    const statuses = tally(answers.map((a) => a.status));
    const state = await verdictOf(world);
    const problems = answers.every((a) => a.status === 202) ? [] : [`answers ${statuses}`];
    return { observed: `answers ${statuses}; run ${state}`, problems };
  },
};

const hostile: Scenario = {
  id: "hostile-input",
  did: "forged signature, malformed JSON, 2 MB body, <script>, 1 MB backticks, NUL bytes, !testme in a code block",
  expected: "4xx or ignored, nothing queued, bridge healthy",
  expect: { verdicts: 0 },
  async run(world) {
    const { stack } = world;
    const secret = stack.bridge.config.github?.webhookSecrets[0] ?? "";
    const url = `${stack.bridgeUrl}/webhooks/github`;
    const post = async (body: string, signature: string) => {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "issue_comment",
          "x-github-delivery": `hostile-${Math.random().toString(36).slice(2)}`,
          "x-hub-signature-256": signature,
        },
        body,
      });
      await res.text();
      return res.status;
    };
    const problems: string[] = [];
    const seen: string[] = [];
    const expectStatus = (what: string, status: number, ok: (s: number) => boolean) => {
      seen.push(`${what} ${status}`);
      if (!ok(status)) problems.push(`${what} answered ${status}`);
    };
    const is4xx = (s: number) => s >= 400 && s < 500;
    const ignoredOr4xx = (s: number) => s === 200 || is4xx(s);

    const legit = JSON.stringify({ hello: "world" });
    expectStatus("forged", await post(legit, signGithub("not-the-secret", legit)), (s) => s === 401);
    const malformed = '{"action": "created", "comment": ';
    expectStatus("malformed", await post(malformed, signGithub(secret, malformed)), is4xx);
    const huge = JSON.stringify({ pad: "x".repeat(2 * 1024 * 1024) });
    expectStatus("oversized", await post(huge, signGithub(secret, huge)), (s) => s === 413);
    const texts: [string, string][] = [
      ["script", "<script>fetch('/webhooks/github?!testme')</script>\n<img src=x onerror=alert(1)>"],
      ["backticks", "`".repeat(1024 * 1024)],
      ["nul", "!test\u0000me\n\u0000!testme\u0000"],
      ["codeblock", "```\n!testme\n```"],
    ];
    for (const [what, body] of texts) {
      const id = world.addComment(body);
      expectStatus(
        what,
        (await world.deliver(id, body, `hostile-${what}-${world.tag}`)).status,
        ignoredOr4xx,
      );
    }
    await world.settled();
    const ready = await fetch(`${stack.bridgeUrl}/readyz`);
    if (ready.status !== 200) problems.push(`/readyz answered ${ready.status} afterwards`);
    return { observed: `${seen.join(", ")}; readyz ${ready.status}`, problems };
  },
};

const webhookAndReconciler: Scenario = {
  id: "webhook-and-reconciler",
  did: "one !testme found by the reconciler, then its late webhook racing 2 more passes, then another pass",
  expected: "one run, one verdict",
  expect: { verdicts: 1 },
  async run(world) {
    const { stack } = world;
    const config = stack.bridge.config;
    const forge = new GithubForge({
      token: config.github?.token ?? "",
      baseUrl: config.github?.apiUrl ?? "",
      botLogin: config.botLogin,
      trust: { ...config.trust, triggerers: [] },
    });
    const logger = createLogger("chaos-reconciler");
    logger.level = "silent";
    const reconciler = new Reconciler(
      [{ forge: "github", repo: stack.repo }],
      { github: forge },
      stack.bridge.intake,
      stack.bridge.queues,
      stack.bridge.metrics,
      logger,
      3_600,
    );
    // The webhook is "lost" at first: the reconciler finds the comment, then GitHub's late
    // delivery and further passes (some concurrent) race the run that is already going.
    const id = world.addComment(COMMAND);
    const first = await reconciler.reconcile();
    const [late, ...passes] = await Promise.all([
      world.deliver(id, COMMAND, `webhook-${world.tag}`),
      reconciler.reconcile(),
      reconciler.reconcile(),
    ]);
    const state = await verdictOf(world);
    const after = await reconciler.reconcile();
    await world.settled();
    const outcome = (JSON.parse(late.body) as { outcome?: string }).outcome;
    const problems: string[] = [];
    if (first.recovered !== 1) problems.push(`the first reconciler pass recovered ${first.recovered}, not 1`);
    if (outcome !== "duplicate") problems.push(`the late webhook was ${outcome}, not a duplicate`);
    const recovered = [first, ...passes, after].map((p) => p.recovered).join("/");
    return {
      observed: `reconciler passes recovered ${recovered}; late webhook ${late.status} ${outcome}; run ${state}`,
      problems,
    };
  },
};

const forgeOutage: Scenario = {
  id: "forge-5xx-then-rate-limit",
  did: "forge API answers 502 for 8 s, then 403 rate-limit ×3 and 429 ×3, while the run reports",
  expected: "the verdict arrives, once",
  expect: { verdicts: 1 },
  async run(world) {
    const { sim } = world.stack;
    const id = world.addComment(COMMAND);
    const answer = await world.deliver(id, COMMAND, `outage-${world.tag}`);
    await world.settled();
    // The command is in; now the reporting path meets the outage.
    sim.failNext({ status: 502, forMs: 8_000 });
    setTimeout(() => {
      sim.failNext({ status: 403, count: 3, retryAfterSec: 1 });
      sim.failNext({ status: 429, count: 3, retryAfterSec: 1 });
    }, 8_000).unref();
    const state = await verdictOf(world);
    const failed = sim.calls.filter((c) => c.status >= 500 || c.status === 403 || c.status === 429).length;
    const problems = failed === 0 ? ["no injected failure was ever hit"] : [];
    return { observed: `webhook ${answer.status}; ${failed} forge calls failed; run ${state}`, problems };
  },
};

const neverConverges: Scenario = {
  id: "never-converges",
  did: "!testme on the lab's `broken` recipe (its healthcheck probes the wrong port)",
  expected: "a failure comment naming the healthcheck, zero residue",
  expect: { verdicts: 1 },
  world: { recipe: { name: "broken", pr: 3 } },
  async run(world) {
    const id = world.addComment(COMMAND);
    const answer = await world.deliver(id, COMMAND, `broken-${world.tag}`);
    const state = await verdictOf(world);
    const sticky = world.stack.stickyComment() ?? "";
    const problems: string[] = [];
    if (state === "done") problems.push("the run was reported green");
    if (!/health/i.test(sticky)) problems.push("the comment does not mention the healthcheck");
    const why =
      sticky
        .split("\n")
        .find((l) => /health/i.test(l))
        ?.trim()
        .slice(0, 120) ?? "";
    return { observed: `webhook ${answer.status}; run ${state}; comment says "${why}"`, problems };
  },
};

const killDuringDeploy: Scenario = {
  id: "worker-kill-9-deploy",
  did: "the worker process is killed with SIGKILL 1.5 s into its deploy; a second worker process starts",
  expected: "the second worker finishes the run, one verdict, zero residue",
  expect: { verdicts: 1 },
  world: { externalWorkers: true },
  async run(world) {
    const config = await world.childConfig();
    const children: ChildProcess[] = [];
    try {
      const doomed = await spawnWorker(config);
      children.push(doomed);
      const id = world.addComment(COMMAND);
      const answer = await world.deliver(id, COMMAND, `kill-${world.tag}`);
      await untilLogSays(world, "install › op: deploy", 120_000);
      await new Promise((r) => setTimeout(r, 1_500));
      await stopWorker(doomed, "SIGKILL");
      children.push(await spawnWorker(config));
      const state = await verdictOf(world);
      const run = (await world.stack.worker.runs.listRuns()).find((r) => r.job.sha === world.sha);
      const deploys = (run?.result as { flags?: { deployCount?: number } } | undefined)?.flags?.deployCount;
      const retaken = await logSays(world, "retaking the run");
      const problems: string[] = [];
      if (state !== "done") problems.push(`the run ended ${state}`);
      if (!retaken) problems.push("the survivor never said it retook the run");
      return {
        observed: `webhook ${answer.status}; killed mid-deploy; survivor ${retaken ? "retook it" : "?"}; run ${state}, deployCount ${deploys}`,
        problems,
      };
    } finally {
      await Promise.all(children.map((c) => stopWorker(c)));
    }
  },
};

const burst: Scenario = {
  id: "burst-capacity-1",
  did: "10 !testme over 4 PRs at once (PR #2 pushed mid-burst) on one host with capacity 1",
  expected: "each PR one verdict on its latest sha, never more than 1 run at a time",
  expect: { verdicts: 1, prs: 4 },
  world: { externalWorkers: true },
  async run(world) {
    const config = await world.childConfig();
    const head = world.sha;
    const older = await world.rev("refs/pull/1/head~1");
    for (const pr of [1, 3, 4]) await world.setHead(pr, head);
    await world.setHead(2, older);
    const worker = await spawnWorker(config);
    let peak = 0;
    const sampler = setInterval(() => {
      void world.stack.worker.runs.listRuns(500).then((runs) => {
        peak = Math.max(peak, runs.filter((r) => r.state === "running").length);
      });
    }, 150);
    try {
      let n = 0;
      const testme = (pr: number) => {
        const id = world.addComment(COMMAND, pr);
        return world.deliver(id, COMMAND, `burst-${world.tag}-${++n}`, pr);
      };
      const answers = await Promise.all([1, 1, 1, 2, 2, 3, 3, 4].map(testme));
      // A push right away: PR #2's older-sha run is at most queued behind PR #1's, so it must
      // never get a verdict (the intake may even see the new head before taking it).
      await world.setHead(2, head);
      answers.push(...(await Promise.all([2, 4].map(testme))));
      const states: string[] = [];
      for (const pr of [1, 2, 3, 4]) states.push(`#${pr} ${await verdictOf(world, 300_000, pr)}`);
      await untilAllFinished(world, 60_000);
      const runs = await world.stack.worker.runs.listRuns(500);
      const problems = peak > 1 ? [`${peak} runs were running at once`] : [];
      if (answers.some((a) => a.status !== 202))
        problems.push(`answers ${tally(answers.map((a) => a.status))}`);
      return {
        observed: `answers ${tally(answers.map((a) => a.status))}; ${runs.length} runs (${tally(runs.map((r) => r.state))}); peak running ${peak}; ${states.join(", ")}`,
        problems,
      };
    } finally {
      clearInterval(sampler);
      await stopWorker(worker);
    }
  },
};

async function untilAllFinished(world: World, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  const live = ["claimed", "queued", "running"];
  while ((await world.stack.worker.runs.listRuns(500)).some((r) => live.includes(r.state))) {
    if (Date.now() > until) throw new Error(`runs still live after ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function logSays(world: World, text: string): Promise<boolean> {
  for (const run of await world.stack.worker.runs.listRuns())
    if ((await world.stack.worker.logs.readLog(run.runId)).some((l) => l.line.includes(text))) return true;
  return false;
}

async function untilLogSays(world: World, text: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await logSays(world, text))) {
    if (Date.now() > until) throw new Error(`the run log never said "${text}" within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const SCENARIOS: Scenario[] = [
  duplicates,
  hostile,
  webhookAndReconciler,
  forgeOutage,
  neverConverges,
  killDuringDeploy,
  burst,
];

function tally<T>(values: T[]): string {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n}×${v}`).join(" ");
}
