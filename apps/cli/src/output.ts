import { TasterError } from "@taster/core";

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
