/**
 * Why something failed decides what happens next: usage and recipe errors are the user's to fix,
 * config errors (Taster's own settings for a recipe, recipes-tests/<recipe>/taster.yml) are
 * Taster's maintainers' to fix and never the recipe's verdict, infrastructure errors may be
 * retried, test failures never are.
 */
export type FailureKind = "usage" | "config" | "recipe" | "infra" | "test";

export class TasterError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TasterError";
  }
}

export const usageError = (message: string, hint?: string) => new TasterError("usage", message, hint);
export const configError = (message: string, hint?: string) => new TasterError("config", message, hint);
export const recipeError = (message: string, hint?: string) => new TasterError("recipe", message, hint);
export const infraError = (message: string, cause?: unknown) =>
  new TasterError("infra", message, undefined, { cause });

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
