/** What a sweep tests: each enrolled recipe's newest release tag, found with `git ls-remote` (no clone). */
import { errorMessage, usageError } from "@taster/core";
import { displayUrl, gitIn, sortReleases } from "@taster/recipe";

/** One enrolled recipe: its name, its repository identity and where it is fetched from. */
export interface SweepTarget {
  recipe: string;
  repo: string;
  source: string;
}

export interface LatestRelease {
  /** The newest release tag and the one before it (the upgrade base), or null when there is none. */
  version: string | null;
  previous: string | null;
}

/** The newest release tag of a recipe; throws (infra) when the repository cannot be listed. */
export async function latestRelease(source: string, timeoutMs = 60_000): Promise<LatestRelease> {
  let out: string;
  try {
    out = await gitIn(undefined, timeoutMs).raw(["ls-remote", "--tags", "--", source]);
  } catch (error) {
    throw new Error(`cannot list the tags of ${displayUrl(source)}: ${errorMessage(error)}`);
  }
  const tags = new Set<string>();
  for (const line of out.split("\n")) {
    const name = line
      .split("\t")[1]
      ?.replace(/^refs\/tags\//, "")
      .replace(/\^\{\}$/, "");
    if (name) tags.add(name);
  }
  const releases = sortReleases(tags);
  return { version: releases.at(-1)?.tag ?? null, previous: releases.at(-2)?.tag ?? null };
}

/** Keeps the recipes asked for (by name or owner/name), in the order asked; unknown names are a usage error. */
export function pickTargets(
  all: readonly SweepTarget[],
  wanted: readonly string[] | undefined,
): SweepTarget[] {
  if (!wanted || wanted.length === 0) return [...all];
  const unknown = wanted.filter((w) => !all.some((t) => t.recipe === w || t.repo === w));
  if (unknown.length > 0) {
    const known = all.map((t) => t.recipe).join(", ") || "none";
    throw usageError(
      `unknown recipe(s): ${unknown.join(", ")} (enrolled: ${known})`,
      "enroll a recipe in TASTER_ENROLLED_REPOS, or on the lab add it under infra/lab/recipes and run ./taster lab up",
    );
  }
  return wanted.map((w) => all.find((t) => t.recipe === w || t.repo === w) as SweepTarget);
}
