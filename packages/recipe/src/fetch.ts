import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { createLogger, infraError, tolerated, usageError } from "@taster/core";

const recipeLog = createLogger("recipe");

import { checkRepoUrl, displayUrl, FULL_SHA, type Git, gitFailure, gitIn } from "./git";

export interface FetchRequest {
  /** A git URL, a local checkout or a bare repo path. */
  url: string;
  /** A ref to fetch, e.g. `refs/pull/1/head`, `main` or a tag; default: the remote's HEAD. */
  ref?: string;
  /** The exact commit to check out (full sha, or a unique prefix of 7+ hex digits). */
  sha?: string;
  /** This run's own directory (see makeWorkspace); the checkout goes into `<workspace>/recipe`. */
  workspace: string;
  /** Give up on a git command that prints nothing for this long (default 120 s). */
  timeoutMs?: number;
}

export interface FetchedRecipe {
  /** The checkout, detached at `sha`, with every tag of the remote. */
  dir: string;
  /** The full sha of the checked-out commit (== HEAD, verified). */
  sha: string;
  /** The ref that was fetched, as given (or `HEAD`). */
  ref: string;
  /** The commit the ref pointed at when fetched; differs from `sha` when the ref moved on. */
  refSha: string;
}

// Where the fetched ref lands locally: outside refs/heads and refs/tags so it never shadows either.
const TARGET = "refs/taster/target";

/**
 * A fresh clone for one run: fetches all tags, the given ref (pull refs are not part of a default
 * clone, so it is fetched explicitly), then checks out the exact sha detached and proves HEAD == sha.
 */
export async function fetchRecipe(request: FetchRequest): Promise<FetchedRecipe> {
  const ref = request.ref ?? "HEAD";
  const url = checkInput(request.url, ref, request.sha);
  const dir = join(request.workspace, "recipe");
  await ensureFreshDir(dir);
  const git = gitIn(dir, request.timeoutMs);
  await git.raw(["init", "--quiet"]);
  await fetchTags(git, url);
  await fetchRef(git, url, ref);
  const refSha = await revParse(git, `${TARGET}^{commit}`);
  if (!refSha) throw infraError(`fetched ${ref} from ${displayUrl(url)} but it is not a commit`);
  const sha = request.sha ? await locateSha(git, url, request.sha, ref) : refSha;
  // The checkout is handed to tests (some repo-local): the URL is given to each fetch rather than
  // stored, and origin is recorded without credentials, so no token is left in .git/config.
  await git.raw(["remote", "add", "origin", displayUrl(url)]);
  await git.raw(["checkout", "--quiet", "--detach", sha]);
  const head = await revParse(git, "HEAD");
  if (head !== sha) throw infraError(`checked out ${sha} but HEAD is ${head ?? "missing"} in ${dir}`);
  return { dir, sha, ref, refSha };
}

function checkInput(url: string, ref: string, sha: string | undefined): string {
  if (ref.startsWith("-") || !/^[\w./+@-]+$/.test(ref) || ref.includes("..")) {
    throw usageError(`not a valid git ref: ${JSON.stringify(ref)}`);
  }
  if (sha !== undefined && !/^[0-9a-f]{7,40}$/i.test(sha)) {
    throw usageError(
      `not a commit sha: ${JSON.stringify(sha)}`,
      "give the full 40-hex sha (or 7+ digits of it)",
    );
  }
  return checkRepoUrl(url);
}

async function ensureFreshDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => []);
  if (entries.length > 0) {
    throw usageError(`${dir} is not empty`, "every run needs its own fresh workspace (makeWorkspace)");
  }
  await mkdir(dir, { recursive: true });
}

async function fetchTags(git: Git, url: string): Promise<void> {
  try {
    await git.raw(["fetch", "--quiet", "--no-recurse-submodules", "--tags", url]);
  } catch (error) {
    const message = gitFailure(error, url);
    const missing = /does not appear to be a git repository|repository .* not found|not found/i.test(message);
    if (missing) throw usageError(`cannot read recipe repository ${displayUrl(url)}: ${message}`);
    throw infraError(`fetching ${displayUrl(url)} failed: ${message}`, error);
  }
}

async function fetchRef(git: Git, url: string, ref: string): Promise<void> {
  try {
    await git.raw(["fetch", "--quiet", "--no-recurse-submodules", "--no-tags", url, `+${ref}:${TARGET}`]);
  } catch (error) {
    const message = gitFailure(error, url);
    if (/couldn't find remote ref|invalid refspec|not our ref/i.test(message)) {
      throw usageError(`ref ${ref} not found in ${displayUrl(url)}`, missingRefHint(ref));
    }
    throw infraError(`fetching ${ref} from ${displayUrl(url)} failed: ${message}`, error);
  }
}

/**
 * `--pr N` fetches `refs/pull/N/head`, which a forge serves but a local clone has only when it
 * was fetched: say how to get it, or how to test the branch instead.
 */
function missingRefHint(ref: string): string | undefined {
  const pr = /^refs\/pull\/(\d+)\/head$/.exec(ref)?.[1];
  if (!pr) return undefined;
  return `--pr ${pr} needs the ref refs/pull/${pr}/head in that repository (a forge has it; for a local clone: git fetch origin pull/${pr}/head:refs/pull/${pr}/head), or test the branch with --ref <branch>`;
}

/** The full sha of `wanted`, fetching it by id when the ref's history does not contain it. */
async function locateSha(git: Git, url: string, wanted: string, ref: string): Promise<string> {
  const known = await resolveCommit(git, wanted);
  if (known) return known;
  // A sha the ref no longer reaches (force-push) may still be on the remote: ask for it by id.
  if (FULL_SHA.test(wanted.toLowerCase())) {
    await git
      .raw(["fetch", "--quiet", "--no-tags", url, wanted.toLowerCase()])
      // Not there either: the caller's "not found" error below names the sha and the ref.
      .catch(tolerated(`fetching ${wanted} by id`, (line) => recipeLog.debug(line)));
    const fetched = await resolveCommit(git, wanted);
    if (fetched) return fetched;
  }
  throw usageError(`commit ${wanted} not found in ${displayUrl(url)} (fetched ${ref} and all tags)`);
}

async function resolveCommit(git: Git, sha: string): Promise<string | undefined> {
  const full = await revParse(git, `${sha.toLowerCase()}^{commit}`);
  return full?.startsWith(sha.toLowerCase()) ? full : undefined;
}

async function revParse(git: Git, rev: string): Promise<string | undefined> {
  try {
    const out = (await git.raw(["rev-parse", "--verify", "--quiet", rev])).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}
