import { usageError } from "@taster/core";
import { type ForgeKind, STICKY_MARKER } from "@taster/forge";
import { startLocalStack } from "@taster/worker/local-stack";
import type { Command } from "commander";

const say = (line: string) => process.stderr.write(`demo: ${line}\n`);

/**
 * The README's first command: a real `!testme` of the bundled hello-web sample PR, end to end on
 * the local lab — forge simulator, bridge and worker in this process, a signed webhook, the run on
 * the lab's swarm, and the PR comment exactly as a maintainer would see it. Exit 0 when green.
 */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("a full !testme of the bundled hello-web sample PR on the local lab, end to end")
    .option(
      "--forge <kind>",
      "the forge the PR lives on: github or gitea (the simulator speaks both)",
      "github",
    )
    .option("--quiet", "do not stream the run's live log")
    .option(
      "--keep",
      "after the verdict, keep the bridge (its dashboard), worker and forge simulator running until Ctrl-C",
    )
    .action(async (flags: { forge: string; quiet?: boolean; keep?: boolean }) => {
      const forge = forgeOf(flags.forge);
      const name = FORGE_NAMES[forge];
      say(`bringing the lab up, starting the forge simulator (${name} API), the bridge and a worker`);
      const stack = await startLocalStack({ forge });
      let green = false;
      try {
        say(
          `bridge on ${stack.bridgeUrl}, forge simulator on ${forge === "gitea" ? stack.sim.giteaUrl : stack.sim.url} (secrets generated, not shown)`,
        );
        say(`configured forge: ${name} only (${FORGE_VARIABLES[forge]})`);
        say(`hello-web PR #1 head is ${stack.headSha}`);
        say(
          `alice comments "!testme" on ${stack.repo}#1; ${name} sends the signed webhook to /webhooks/${forge}`,
        );
        const answer = await stack.comment("!testme");
        if (answer.status !== 202 || !answer.runId) {
          throw new Error(`the bridge answered ${answer.status} (${answer.outcome ?? "no outcome"})`);
        }
        say(`bridge: ${answer.status} ${answer.outcome}, run ${answer.runId}; waiting for the verdict`);
        const started = Date.now();
        const ticker = flags.quiet
          ? setInterval(() => say(`… ${Math.round((Date.now() - started) / 1000)}s`), 10_000)
          : undefined;
        const state = await stack
          .waitForVerdict(
            answer.runId,
            flags.quiet ? undefined : (line) => process.stderr.write(`  │ ${line}\n`),
          )
          .finally(() => clearInterval(ticker));
        green = state === "done";
        const body = stack.stickyComment() ?? "(no comment was posted)";
        process.stdout.write(
          `\n──── ${name} PR comment on ${stack.repo}#1 (as a maintainer sees it) ────\n\n`,
        );
        process.stdout.write(`${body.replace(`${STICKY_MARKER}\n`, "")}\n`);
        process.stdout.write(`──── ${name} commit statuses on ${stack.headSha.slice(0, 10)} ────\n`);
        for (const s of stack.statuses()) {
          process.stdout.write(`  ${s.state.padEnd(8)} ${s.context.padEnd(16)} ${s.description ?? ""}\n`);
        }
        process.stdout.write(`\nverdict: ${green ? "GREEN" : `NOT GREEN (${state})`}\n`);
        if (flags.keep) await keepUntilSignal(`${stack.bridgeUrl}/runs/${answer.runId}`, stack.bridgeUrl);
      } finally {
        say("tearing down the bridge, worker and forge simulator");
        await stack.close();
        if (flags.keep) say(`stopped: ports closed, Redis keys ${stack.keyPatterns.join(" ")} removed`);
      }
      if (!green) process.exitCode = 1;
    });
}

const FORGE_NAMES: Record<ForgeKind, string> = { github: "GitHub", gitea: "Gitea" };
const FORGE_VARIABLES: Record<ForgeKind, string> = {
  github: "TASTER_GITHUB_TOKEN, TASTER_GITHUB_WEBHOOK_SECRET, TASTER_GITHUB_API_URL",
  gitea: "TASTER_GITEA_URL, TASTER_GITEA_TOKEN, TASTER_GITEA_WEBHOOK_SECRET",
};

function forgeOf(value: string): ForgeKind {
  if (value === "github" || value === "gitea") return value;
  throw usageError(`--forge "${value}" is not a forge Taster speaks`, "use --forge github or --forge gitea");
}

/**
 * `--keep`: the run page's link (and the PR comment's) work for as long as the stack runs; the
 * first SIGINT/SIGTERM returns, and the caller tears everything down as without --keep.
 */
async function keepUntilSignal(runPage: string, home: string): Promise<void> {
  process.stdout.write(`\ndashboard: ${runPage}\n`);
  say(`the bridge (dashboard ${home}/), worker and forge simulator keep running`);
  say(`stop them with Ctrl-C, or from another shell: kill -INT ${process.pid}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
