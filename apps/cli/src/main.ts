import { Command } from "commander";
import { registerAllowlist } from "./commands/allowlist";
import { registerBridge } from "./commands/bridge";
import { registerChaos } from "./commands/chaos";
import { registerDemo } from "./commands/demo";
import { registerDoctor } from "./commands/doctor";
import { registerJanitor } from "./commands/janitor";
import { registerLab } from "./commands/lab";
import { registerPlan } from "./commands/plan";
import { registerRun } from "./commands/run";
import { registerTest } from "./commands/test";
import { registerWorker } from "./commands/worker";
import { exitCodeFor, printError, printUsage } from "./output";

const program = new Command("taster")
  .description("CI for Co-op Cloud recipes: deploy a PR's recipe once, run the lifecycle tiers, report.")
  .showHelpAfterError()
  .exitOverride();

// The command being run, so a usage error can show that command's usage line.
let running: Command | undefined;
program.hook("preAction", (_program, action) => {
  running = action;
});

registerDemo(program);
registerLab(program);
registerPlan(program);
registerRun(program);
registerBridge(program);
registerWorker(program);
registerDoctor(program);
registerAllowlist(program);
registerJanitor(program);
registerTest(program);
registerChaos(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // commander's own exits (help, version, usage errors) carry their exit code.
  const code = (error as { exitCode?: number }).exitCode;
  if (typeof code === "number" && (error as { code?: string }).code?.startsWith("commander.")) {
    process.exit(code === 1 ? 2 : code);
  }
  printError(error);
  if (running) printUsage(error, running);
  process.exit(exitCodeFor(error));
}
