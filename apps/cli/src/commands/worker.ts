import { usageError } from "@taster/core";
import type { Command } from "commander";

// Placeholder: the owner of this command replaces it with the real thing.
export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("(not built yet)")
    .allowUnknownOption()
    .action(() => {
      throw usageError("'taster worker' is not built yet");
    });
}
