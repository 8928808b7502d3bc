import { spawnSync } from "node:child_process";
import { LAB_SCRIPT } from "@taster/lab";
import type { Command } from "commander";

export function registerLab(program: Command): void {
  program
    .command("lab")
    .description("the local lab: a real swarm, Redis, sshd and the sample recipes on this machine")
    .argument("<action>", "up | status | down")
    .action((action: string) => {
      const result = spawnSync(LAB_SCRIPT, [action], { stdio: "inherit" });
      process.exitCode = result.status ?? 2;
    });
}
