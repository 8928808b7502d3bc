import { execFileSync } from "node:child_process";
import { ensureLab, recipeRepo } from "@taster/lab";
import type { Command } from "commander";

/**
 * The README's first command: a `!testme` of the hello-web sample PR, end to end, on the lab.
 * It runs as far as Taster is built; each stage says what it did.
 */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("a full !testme of the bundled hello-web sample PR on the local lab")
    .action(async () => {
      process.stderr.write("demo: bringing the lab up\n");
      const lab = await ensureLab();
      const repo = recipeRepo(lab, "hello-web");
      const sha = execFileSync("git", ["--git-dir", repo, "rev-parse", "refs/pull/1/head"]).toString().trim();
      process.stdout.write(`demo: hello-web PR #1 head is ${sha} (${repo})\n`);
    });
}
