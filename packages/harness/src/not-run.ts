import type { Results } from "./results";

/** What a green table must not hide: repo-local files that were found but did not run, and the fix. */
export interface NotRunNotice {
  /** `2 repo-local test files not run: not approved` */
  line: string;
  /** The exact command an admin runs after reviewing the content, when approval is the fix. */
  approve?: string;
}

/**
 * The repo-local files this run found and did not run (the manifest's DENY lines), as one line
 * the CLI table and the PR comment show next to the tiers; null when every file found ran.
 */
export function repoLocalNotRun(results: Results): NotRunNotice | null {
  const manifest = results.manifest;
  if (!manifest) return null;
  const denied = manifest.files.filter((f) => f.source === "repo-local" && !f.allowed).length;
  if (denied === 0) return null;
  const files = `${denied} repo-local test file${denied === 1 ? "" : "s"} not run`;
  const approve = manifest.repoLocal.approve;
  if (!approve) return { line: `${files}: ${manifest.repoLocal.why}` };
  return { line: `${files}: not approved`, approve };
}
