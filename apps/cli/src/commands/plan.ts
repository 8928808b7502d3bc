import { usageError } from "@taster/core";
import type { Command } from "commander";

// Placeholder: the owner of this command replaces it with the real thing.
export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description("(not built yet)")
    .allowUnknownOption()
    .action(() => {
      throw usageError("'taster plan' is not built yet");
    });
}
