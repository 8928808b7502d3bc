import { recipeError } from "@taster/core";
import { compareReleases, parseReleaseTag, type Release } from "./versions";

/** A tag and the commit it points at (peeled: an annotated tag's commit, not the tag object). */
export interface TaggedCommit {
  tag: string;
  sha: string;
}

/** Whether `ancestor` is in the history of `descendant`. */
export type AncestorCheck = (ancestor: string, descendant: string) => boolean | Promise<boolean>;

export type BaseRelease = Release & { sha: string };

/** The release an upgrade starts from, or null; `reason` always says why (for the run manifest). */
export interface UpgradeBase {
  base: BaseRelease | null;
  reason: string;
}

/** Settings value that turns the upgrade tier off for a recipe. */
export const NO_UPGRADE_BASE = "none";

/**
 * The release to deploy before upgrading to the head: the newest release tag older than the head.
 * A tag on the head itself is never a base, and releases newer than a release at the head are not
 * older. Among the rest, tags in the head's history win; a release off that history is taken only
 * when none is in it (and the reason says so). `override` is the recipe's `upgradeBase` setting.
 */
export async function upgradeBase(
  tags: readonly TaggedCommit[],
  headSha: string,
  isAncestor: AncestorCheck,
  override?: string,
): Promise<UpgradeBase> {
  if (override !== undefined) return chosenBase(tags, headSha, override);
  const releases = releasesOf(tags);
  if (releases.length === 0) return { base: null, reason: "the recipe has no release tags" };
  const atHead = releases.filter((r) => r.sha === headSha).at(-1);
  const older = releases.filter((r) => r.sha !== headSha && (!atHead || compareReleases(r, atHead) < 0));
  if (older.length === 0) {
    const only = atHead ? `the head is release ${atHead.tag} and no release is older` : "no release is older";
    return { base: null, reason: only };
  }
  for (const release of [...older].reverse()) {
    if (await isAncestor(release.sha, headSha)) {
      return { base: release, reason: `newest release in the head's history: ${release.tag}` };
    }
  }
  const newest = older.at(-1) as BaseRelease;
  return { base: newest, reason: `no release is in the head's history; newest release: ${newest.tag}` };
}

function chosenBase(tags: readonly TaggedCommit[], headSha: string, override: string): UpgradeBase {
  if (override === NO_UPGRADE_BASE)
    return { base: null, reason: "upgradeBase: none in the recipe's settings" };
  const releases = releasesOf(tags);
  const chosen = releases.find((r) => r.tag === override);
  if (!chosen) {
    const known = releases.map((r) => r.tag).join(", ") || "none";
    throw recipeError(`upgradeBase ${override} is not a release tag of this recipe (releases: ${known})`);
  }
  if (chosen.sha === headSha)
    throw recipeError(`upgradeBase ${override} is the head itself: nothing to upgrade`);
  return { base: chosen, reason: `upgradeBase: ${override} in the recipe's settings` };
}

/** Release tags with their commits, oldest first. */
export function releasesOf(tags: readonly TaggedCommit[]): BaseRelease[] {
  const releases: BaseRelease[] = [];
  for (const { tag, sha } of tags) {
    const release = parseReleaseTag(tag);
    if (release) releases.push({ ...release, sha });
  }
  return releases.sort(compareReleases);
}
