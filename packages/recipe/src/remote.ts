import { infraError, usageError } from "@taster/core";
import { checkRepoUrl, displayUrl, gitFailure, gitIn } from "./git";

// The order in which git itself expands a short ref name (see git-rev-parse "SPECIFYING REVISIONS").
const DWIM = ["%s", "refs/%s", "refs/tags/%s", "refs/heads/%s", "refs/remotes/%s", "refs/remotes/%s/HEAD"];

/** The ref of a pull request's head, as GitHub and Gitea/Forgejo publish it. */
export const pullRef = (pr: number): string => `refs/pull/${pr}/head`;

/**
 * The commit a remote ref points at, via `git ls-remote` (no clone): for the bridge and CLI, which
 * must test a sha, never a branch name. Annotated tags resolve to their commit.
 */
export async function resolveRef(repoUrl: string, ref: string, timeoutMs = 60_000): Promise<string> {
  const url = checkRepoUrl(repoUrl);
  if (!ref || ref.startsWith("-")) throw usageError(`not a valid git ref: ${JSON.stringify(ref)}`);
  const refs = await listRemote(url, timeoutMs);
  for (const pattern of DWIM) {
    const name = pattern.replace("%s", ref);
    const sha = refs.get(`${name}^{}`) ?? refs.get(name);
    if (sha) return sha;
  }
  throw usageError(`ref ${ref} not found in ${displayUrl(url)}`);
}

async function listRemote(url: string, timeoutMs: number): Promise<Map<string, string>> {
  let out: string;
  try {
    out = await gitIn(undefined, timeoutMs).raw(["ls-remote", "--", url]);
  } catch (error) {
    throw infraError(`cannot list refs of ${displayUrl(url)}: ${gitFailure(error, url)}`, error);
  }
  const refs = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [sha, name] = line.split("\t");
    if (sha && name) refs.set(name, sha);
  }
  return refs;
}
