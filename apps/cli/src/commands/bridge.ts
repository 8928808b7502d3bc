import { usageError } from "@taster/core";
import type { Command } from "commander";

// Placeholder: the owner of this command replaces it with the real thing.
export function registerBridge(program: Command): void {
  program
    .command("bridge")
    .description("(not built yet)")
    .allowUnknownOption()
    .action(() => {
      throw usageError("'taster bridge' is not built yet");
    });
}
