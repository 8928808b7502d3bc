import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tasterRoot } from "@taster/config";
import { LAB_SCRIPT } from "@taster/lab";
import type { Command } from "commander";

const ROOT = tasterRoot();

function step(label: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  process.stderr.write(`\n== ${label}\n`);
  const result = spawnSync(command, args, { stdio: "inherit", cwd: ROOT, env: { ...process.env, ...env } });
  if (result.status !== 0) {
    process.stderr.write(`taster test: ${label} failed\n`);
    process.exit(result.status ?? 2);
  }
}

export function registerTest(program: Command): void {
  program
    .command("test")
    .description("bring the lab up, then lint, type-check and run every test")
    .argument("[jestArgs...]", "extra arguments for jest (e.g. a path filter)")
    .action((jestArgs: string[]) => {
      step("lab up", LAB_SCRIPT, ["up"]);
      step("lint", "pnpm", ["lint"]);
      step("allowlist check", join(ROOT, "taster"), ["allowlist", "check"]);
      step("typecheck", "pnpm", ["exec", "tsc", "-p", "tsconfig.json", "--noEmit"]);
      const report = join(ROOT, "test-artifacts", "jest.json");
      mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
      const tests = spawnSync("pnpm", ["exec", "jest", "--json", `--outputFile=${report}`, ...jestArgs], {
        stdio: "inherit",
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: "--experimental-vm-modules --no-warnings=ExperimentalWarning" },
      });
      printSummary(report);
      process.exit(tests.status ?? 2);
    });
}

/** One plain closing line that any CI log reader understands. */
function printSummary(reportPath: string): void {
  try {
    const r = JSON.parse(readFileSync(reportPath, "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    process.stdout.write(
      `\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped\n`,
    );
  } catch {
    process.stdout.write("\ntests: no report was written (jest did not finish)\n");
  }
}
