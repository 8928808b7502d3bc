import { spawnSync } from "node:child_process";
import { errorMessage } from "@taster/core";
import { ensureLab, LAB_SCRIPT } from "@taster/lab";
import { connectHost, endpointModeFor } from "@taster/swarm";
import type { Command } from "commander";

export function registerLab(program: Command): void {
  program
    .command("lab")
    .description("the local lab: a real swarm, Redis, sshd and the sample recipes on this machine")
    .argument("<action>", "up | status | down")
    .action(async (action: string) => {
      const result = spawnSync(LAB_SCRIPT, [action], { stdio: "inherit" });
      process.exitCode = result.status ?? 2;
      if (action === "up" && result.status === 0) await sayHowServicesMeet();
    });
}

/** Whether the lab's swarm VIPs answer (measured once per engine, recorded on its node). */
async function sayHowServicesMeet(): Promise<void> {
  try {
    const host = await connectHost((await ensureLab()).dockerHost);
    try {
      const mode = await endpointModeFor(host);
      process.stderr.write(
        mode === "vip"
          ? "lab: swarm VIPs answer on this host\n"
          : "lab: swarm VIPs do not answer on this host (no IPVS): deploys use endpoint_mode dnsrr\n",
      );
    } finally {
      await host.close();
    }
  } catch (error) {
    process.stderr.write(`lab: could not tell whether swarm VIPs answer: ${errorMessage(error)}\n`);
  }
}
