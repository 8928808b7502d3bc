import { usageError } from "@taster/core";

/**
 * The recipe name of a repository URL or path, as abra names recipes: the last path segment
 * without `.git` (`https://git.coopcloud.tech/coop-cloud/hello-web.git` → `hello-web`,
 * `git@github.com:org/notes` → `notes`, `/srv/recipes/broken.git/` → `broken`).
 */
export function recipeNameFrom(urlOrPath: string): string {
  const trimmed = urlOrPath.trim().replace(/[/\\]+$/, "");
  // A checkout's `.git` directory names the checkout, not a recipe called "".
  const segments = trimmed.split(/[/\\:]/).filter((s) => s !== ".git");
  const last = segments.pop() ?? "";
  const name = last.replace(/\.git$/i, "");
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw usageError(`cannot tell the recipe name from ${JSON.stringify(urlOrPath)}`);
  }
  return name;
}
