import { usageError } from "@taster/core";
import type { Command } from "commander";

// Placeholder: the owner of this command replaces it with the real thing.
export function registerRun(program: Command): void {
  program
    .command("run")
    .description("(not built yet)")
    .allowUnknownOption()
    .action(() => {
      throw usageError("'taster run' is not built yet");
    });
}
