import { usageError } from "@taster/core";
import type { Command } from "commander";
import { formatRow, formatTotal, runChaos, selectScenarios } from "../../../../chaos/index";

interface ChaosFlags {
  rounds: string;
  only?: string;
}

/**
 * The reliability scorecard (issue 8): hostile scenarios against the real system on the local lab,
 * one line per scenario, exit 1 if any failed. Long-running, so not part of `taster test`.
 */
export function registerChaos(program: Command): void {
  program
    .command("chaos")
    .description("run the reliability scenarios against the local lab and print a scorecard")
    .option("--rounds <n>", "run every scenario this many times in a row", "1")
    .option("--only <ids>", "comma-separated scenario ids (default: all)")
    .action(async (flags: ChaosFlags) => {
      const rounds = Number(flags.rounds);
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20)
        throw usageError(`--rounds must be a whole number from 1 to 20, not "${flags.rounds}"`);
      const only = flags.only
        ?.split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const scenarios = selectScenarios(only);
      process.stderr.write(`chaos: ${scenarios.length} scenarios × ${rounds} round(s)\n`);
      process.stdout.write("round | id | what was done | expected | observed | verdict\n");
      const rows = await runChaos({
        rounds,
        ...(only ? { only } : {}),
        onRow: (row) => process.stdout.write(`${formatRow(row)}\n`),
      });
      process.stdout.write(`${formatTotal(rows)}\n`);
      if (rows.some((r) => !r.pass)) process.exitCode = 1;
    });
}
