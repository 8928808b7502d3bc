import { TasterError } from "@taster/core";
import type { Command } from "commander";

/** Exit codes: 0 = all good, 1 = the recipe failed a tier, 2 = usage or infrastructure error. */
export function exitCodeFor(error: unknown): number {
  return error instanceof TasterError && (error.kind === "test" || error.kind === "recipe") ? 1 : 2;
}

export function printError(error: unknown): void {
  if (error instanceof TasterError) {
    process.stderr.write(`taster: ${error.message}\n`);
    if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
    return;
  }
  process.stderr.write(
    `taster: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
}

/** After a usage error: the command's usage line and where the options are, nothing else. */
export function printUsage(error: unknown, command: Command): void {
  if (!(error instanceof TasterError) || error.kind !== "usage") return;
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  const name = names.join(" ");
  process.stderr.write(`usage: ${name} ${command.usage()}\n(${name} --help lists the options)\n`);
}
