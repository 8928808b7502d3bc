import semver from "semver";

/** A release tag `<recipe semver>+<upstream version>`, e.g. `1.7.1+1.27.2`. */
export interface Release {
  tag: string;
  /** The recipe's own semver, e.g. `1.7.1` or `2.0.0-rc.1`. */
  recipe: string;
  /** The upstream version it packages; any docker-tag-like text (`1.27.2`, `v1.2`, `2024-01-01`). */
  upstream: string;
}

// Upstream versions mirror docker image tags, which never contain "+": that keeps
// `1.1.0+1.1+3f6ce28c` (a chaos version label) from passing for a release.
const UPSTREAM = /^[A-Za-z0-9_][A-Za-z0-9_.~-]*$/;

/** The release a tag names, or null when the tag is not a release (`latest`, `v1`, `1.0.0`). */
export function parseReleaseTag(tag: string): Release | null {
  const plus = tag.indexOf("+");
  if (plus <= 0) return null;
  const recipe = tag.slice(0, plus);
  const upstream = tag.slice(plus + 1);
  if (semver.parse(recipe)?.version !== recipe || !UPSTREAM.test(upstream)) return null;
  return { tag, recipe, upstream };
}

/** Release order: recipe semver first, then upstream version, then the tag text (for determinism). */
export function compareReleases(a: Release, b: Release): number {
  return (
    semver.compare(a.recipe, b.recipe) || compareUpstream(a.upstream, b.upstream) || compareText(a.tag, b.tag)
  );
}

/** The releases among tags, oldest first; tags that are not releases are left out. */
export function sortReleases(tags: Iterable<string>): Release[] {
  const releases: Release[] = [];
  for (const tag of tags) {
    const release = parseReleaseTag(tag);
    if (release) releases.push(release);
  }
  return releases.sort(compareReleases);
}

// Dotted numbers with an optional leading "v" and a pre-release that starts with a letter
// (`1.2`, `v1.27.2`, `2.0-rc1`); date-like `2024-01-01` is left to natural order on purpose.
const SEMVERISH = /^v?(\d+(?:\.\d+)*)(?:-([A-Za-z][0-9A-Za-z.-]*))?$/;

/** Upstream order: numeric per dotted component when both look like versions, else natural order. */
export function compareUpstream(a: string, b: string): number {
  const va = SEMVERISH.exec(a);
  const vb = SEMVERISH.exec(b);
  if (!va?.[1] || !vb?.[1]) return naturalCompare(a.replace(/^v(?=\d)/, ""), b.replace(/^v(?=\d)/, ""));
  const byNumbers = compareNumberLists(va[1], vb[1]);
  if (byNumbers !== 0) return byNumbers;
  const [preA, preB] = [va[2], vb[2]];
  // A pre-release comes before the release it leads to.
  if (preA === undefined) return preB === undefined ? 0 : 1;
  return preB === undefined ? -1 : naturalCompare(preA, preB);
}

function compareNumberLists(a: string, b: string): number {
  const na = a.split(".");
  const nb = b.split(".");
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const diff = compareDigits(na[i] ?? "0", nb[i] ?? "0");
    if (diff !== 0) return diff;
  }
  return 0;
}

/** Natural order: digit runs compare as numbers, everything else as text (`a2` < `a10`). */
export function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const [x, y] = [ta[i] as string, tb[i] as string];
    const diff = /^\d/.test(x) && /^\d/.test(y) ? compareDigits(x, y) : compareText(x, y);
    if (diff !== 0) return diff;
  }
  return ta.length - tb.length;
}

// Compares digit strings of any length without Number overflow.
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, "");
  const y = b.replace(/^0+(?=\d)/, "");
  return x.length - y.length || compareText(x, y);
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * abra's chaos version of a checkout: the short (8-char) commit hash, `+U` when the working tree
 * has uncommitted changes. Written to the `coop-cloud.<stack>.chaos-version` label.
 */
export function chaosVersion(sha: string, dirty = false): string {
  if (!/^[0-9a-f]{8,40}$/i.test(sha)) throw new Error(`not a commit sha: ${JSON.stringify(sha)}`);
  return `${sha.slice(0, 8).toLowerCase()}${dirty ? "+U" : ""}`;
}

/** What is known about a checked-out commit's place among the releases (see describeHead). */
export interface HeadVersion {
  sha: string;
  /** The newest release tag on this very commit, if any. */
  tag?: string;
  /** The newest release tag that is an ancestor of this commit (not on it), if any. */
  latestReachableTag?: string;
}

/**
 * The `coop-cloud.<stack>.version` label value: the release tag when the head is a release,
 * else `<latest reachable release>+<short sha>`, else the short sha.
 */
export function versionOf(head: HeadVersion): string {
  if (head.tag) return head.tag;
  const short = chaosVersion(head.sha);
  return head.latestReachableTag ? `${head.latestReachableTag}+${short}` : short;
}
