import { Command } from "commander";
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

/**
 * Each command's module, loaded only when that command runs (all of them for the help or a
 * mistyped name): the bridge's webhook process then never loads the harness, the engine clients
 * or jest, and in the build each command is a chunk of its own.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  demo: async () => (await import("./commands/demo")).registerDemo,
  lab: async () => (await import("./commands/lab")).registerLab,
  plan: async () => (await import("./commands/plan")).registerPlan,
  run: async () => (await import("./commands/run")).registerRun,
  sweep: async () => (await import("./commands/sweep")).registerSweep,
  bridge: async () => (await import("./commands/bridge")).registerBridge,
  worker: async () => (await import("./commands/worker")).registerWorker,
  doctor: async () => (await import("./commands/doctor")).registerDoctor,
  allowlist: async () => (await import("./commands/allowlist")).registerAllowlist,
  janitor: async () => (await import("./commands/janitor")).registerJanitor,
  warm: async () => (await import("./commands/warm")).registerWarm,
  test: async () => (await import("./commands/test")).registerTest,
  chaos: async () => (await import("./commands/chaos")).registerChaos,
};
const named = COMMANDS[process.argv[2] ?? ""];
for (const load of named ? [named] : Object.values(COMMANDS)) (await load())(program);

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
