// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the scenario text names literal ${VAR} references
/**
 * A recipe pull request trying to own Taster's processes through its env (issue 12, finding 1).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stackNameFor } from "@taster/core";
import { connectHost } from "@taster/swarm";
import { verdictOf } from "../../invariants";
import { commitToMirror, composeReadsWorkerVars, hostileEnv, markerFile } from "../../variants/hostile-env";
import type { World } from "../../world";
import { COMMAND, lineOf, type Scenario } from "../scenario";

/** The variable a production worker holds its forge token in. */
const TOKEN_VAR = "TASTER_GITHUB_TOKEN";

/** Where the hostile PR's fake programs report that they ran (made per scenario run). */
let markerDir = "";

const hostileRecipeEnv: Scenario = {
  id: "hostile-recipe-env",
  did: "!testme on a PR whose .env.sample sets PATH=./bin:… (fake docker/git/unshare/node that record they ran), NODE_OPTIONS, abra.sh LD_PRELOAD, and whose compose reads ${TASTER_GITHUB_TOKEN}; then a PR #2 with only the compose references; the worker's env holds its token",
  expected:
    "PR #1 fails naming the refused keys and .env.sample lines; no fake program ever runs; PR #2 deploys with the references empty: the token is in no comment, log or service spec; zero residue",
  expect: { verdicts: 1, prs: 2 },
  async setup() {
    markerDir = await mkdtemp(join(tmpdir(), "taster-chaos-hostile-"));
    return {
      world: { variant: hostileEnv(markerDir) },
      cleanup: () => rm(markerDir, { recursive: true, force: true }),
    };
  },
  async run(world) {
    const token = world.stack.secrets[0] ?? "";
    // What a production worker has: its token in its own environment.
    const saved = process.env[TOKEN_VAR];
    process.env[TOKEN_VAR] = token;
    try {
      return await drive(world, token);
    } finally {
      if (saved === undefined) delete process.env[TOKEN_VAR];
      else process.env[TOKEN_VAR] = saved;
    }
  },
};

async function drive(world: World, token: string): Promise<{ observed: string; problems: string[] }> {
  const problems: string[] = [];
  const first = world.addComment(COMMAND);
  await world.deliver(first, COMMAND, `hostile-${world.tag}`);
  const state1 = await verdictOf(world, 200_000);
  const sticky1 = world.stack.stickyComment() ?? "";
  const why = lineOf(sticky1, /PATH|refused/);
  if (state1 !== "failed") problems.push(`PR #1 ended ${state1}, not failed`);
  if (!/PATH \(\.env\.sample:\d+\)/.test(sticky1))
    problems.push(`the comment does not name PATH and its .env.sample line: "${why}"`);
  if (!/NODE_OPTIONS/.test(sticky1)) problems.push("the comment does not name NODE_OPTIONS");

  // PR #2: no refused key, only compose references to the worker's variables; it deploys.
  const { recipe: mirror } = await world.childConfig();
  const base = await world.rev("refs/pull/1/head~1");
  const scratch = await mkdtemp(join(tmpdir(), "taster-chaos-pr2-"));
  let sha2: string;
  try {
    sha2 = await commitToMirror(mirror, base, composeReadsWorkerVars, scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await world.setHead(2, sha2);
  const watch = watchSpecs(world, stackNameFor({ repo: world.repos[0] ?? "", pr: 2, sha: sha2 }));
  const second = world.addComment(COMMAND, 2);
  await world.deliver(second, COMMAND, `hostile2-${world.tag}`, 2);
  const state2 = await verdictOf(world, 240_000, 2);
  const specs = await watch.stop();
  if (state2 !== "done") problems.push(`PR #2 ended ${state2}, not done`);
  if (!specs.length) problems.push("PR #2's service was never seen deployed");
  const leakedSpec = specs.some((spec) => spec.includes(token));
  if (leakedSpec) problems.push("the worker's token is in PR #2's service spec");
  // Its length only: a scorecard line must not carry the value it is checking for.
  const leakEnv = /"LEAK_TOKEN=([^"]*)"/.exec(specs.at(-1) ?? "")?.[1];
  const leakShown = leakEnv === undefined ? "?" : leakEnv === "" ? "empty" : `${leakEnv.length} chars`;

  const marker = markerFile(markerDir);
  const ran = existsSync(marker) ? (await readFile(marker, "utf8")).trim().split("\n") : [];
  if (ran.length) problems.push(`fake programs ran: ${ran.map((l) => l.split(" token=")[0]).join("; ")}`);
  if (ran.some((l) => token && l.includes(token))) problems.push("a fake program saw the worker's token");

  return {
    observed: `PR #1 ${state1}: "${why}"; fake programs run: ${ran.length}; PR #2 ${state2}, service spec LEAK_TOKEN ${leakShown}, token in spec: ${leakedSpec ? "YES" : "no"}`,
    problems,
  };
}

/** Polls the stack's services and keeps each distinct spec seen, as JSON. */
function watchSpecs(world: World, stack: string): { stop(): Promise<string[]> } {
  const seen = new Set<string>();
  let running = true;
  const loop = (async () => {
    const host = await connectHost(world.stack.lab.dockerHost);
    try {
      while (running) {
        const services = await host.docker
          .listServices({ filters: { label: [`com.docker.stack.namespace=${stack}`] } })
          .catch(() => []);
        for (const service of services) seen.add(JSON.stringify(service.Spec));
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      await host.close();
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return [...seen];
    },
  };
}

export const SCENARIOS: Scenario[] = [hostileRecipeEnv];
