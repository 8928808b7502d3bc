import { gitIn } from "./git";
import {
  type AncestorCheck,
  releasesOf,
  type TaggedCommit,
  type UpgradeBase,
  upgradeBase,
} from "./upgrade-base";
import type { HeadVersion } from "./versions";

/** Every tag of a checkout with the commit it points at (annotated tags peeled). */
export async function listTags(dir: string): Promise<TaggedCommit[]> {
  const format = "%(refname:strip=2)%09%(objectname)%09%(*objectname)";
  const out = await gitIn(dir).raw(["for-each-ref", `--format=${format}`, "refs/tags"]);
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [tag = "", object = "", peeled = ""] = line.split("\t");
      return { tag, sha: peeled || object };
    });
}

/** The ancestry check of a checkout (a commit counts as its own ancestor). */
export function ancestryIn(dir: string): AncestorCheck {
  const git = gitIn(dir);
  // Nothing printed = every commit of `ancestor` is reachable from `descendant`.
  return async (ancestor, descendant) =>
    (await git.raw(["rev-list", "-n", "1", ancestor, `^${descendant}`, "--"])).trim() === "";
}

/** Whether the checkout has uncommitted changes (abra's `+U` on the chaos version). */
export async function isDirty(dir: string): Promise<boolean> {
  return (await gitIn(dir).raw(["status", "--porcelain", "--untracked-files=no"])).trim() !== "";
}

/** The upgrade base of a checkout's head (see upgradeBase), from its own tags and history. */
export async function resolveUpgradeBase(
  dir: string,
  headSha: string,
  override?: string,
): Promise<UpgradeBase> {
  return upgradeBase(await listTags(dir), headSha, ancestryIn(dir), override);
}

/** Where a checked-out commit stands among the releases, for versionOf. */
export async function describeHead(dir: string, headSha: string): Promise<HeadVersion> {
  const releases = releasesOf(await listTags(dir));
  const tag = releases.filter((r) => r.sha === headSha).at(-1)?.tag;
  const isAncestor = ancestryIn(dir);
  for (const release of [...releases].reverse()) {
    if (release.sha !== headSha && (await isAncestor(release.sha, headSha))) {
      return { sha: headSha, tag, latestReachableTag: release.tag };
    }
  }
  return { sha: headSha, tag };
}
