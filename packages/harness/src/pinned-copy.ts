/**
 * Approved repo-local code runs from a Taster-owned copy of exactly the pinned tree, never from the
 * checkout: the approval is of a git tree id, so what runs is read from that object and nothing
 * else — no file beside tests/taster, no symlink out of it, no config at the recipe's root.
 *
 * The copy is written from git's objects (`ls-tree` + `cat-file blob`), not with `git archive`,
 * whose `export-subst` / `export-ignore` attributes (from a .gitattributes in the tree) would
 * change the content; nothing is checked out, so no filter or attribute applies either.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { type GateDecision, REPO_LOCAL_DIR } from "./allowlist";

const run = promisify(execFile);

/** git gets a fixed environment: nothing of ours (or of a caller) steers what it reads. */
const GIT_ENV = { PATH: "/usr/local/bin:/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" };

/** Bounds for a hostile tree: repo-local tests are a handful of small files. */
export const PINNED_LIMITS = { files: 1000, bytes: 20 * 1024 * 1024 };

/** The only entries a pinned tree may hold: regular files (plain or executable); trees recurse. */
const REGULAR_FILE = new Set(["100644", "100755"]);

const WHAT: Record<string, string> = {
  "120000": "a symlink",
  "160000": "a submodule (gitlink)",
};

interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
  path: string;
}

/** Why the pinned tree cannot run as it is; names the path (relative to the recipe). */
export class RefusedTree extends Error {}

async function git(cwd: string, args: string[], maxBuffer = 16 * 1024 * 1024) {
  return run("git", args, { cwd, env: GIT_ENV, maxBuffer, encoding: "buffer" });
}

/** Every entry of the tree, recursively, as git stores it (NUL-separated: any name is safe). */
async function entriesOf(repoDir: string, tree: string): Promise<TreeEntry[]> {
  // tests/taster itself may be a symlink (a blob), not a directory.
  const type = (await git(repoDir, ["cat-file", "-t", tree])).stdout.toString("utf8").trim();
  if (type !== "tree") throw new RefusedTree(`${REPO_LOCAL_DIR} is not a directory (a ${type}: a symlink?)`);
  const { stdout } = await git(repoDir, ["ls-tree", "-r", "-z", "--full-tree", tree]);
  return stdout
    .toString("utf8")
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf("\t");
      const [mode = "", type = "", oid = ""] = line.slice(0, tab).split(" ");
      return { mode, type, oid, path: line.slice(tab + 1) };
    });
}

const shown = (path: string) => `${REPO_LOCAL_DIR}/${path}`;

/** Refuses anything that is not a plain file at a plain relative path. */
function check(entries: TreeEntry[]): void {
  if (entries.length > PINNED_LIMITS.files) {
    throw new RefusedTree(
      `${REPO_LOCAL_DIR} has ${entries.length} files (at most ${PINNED_LIMITS.files} are copied)`,
    );
  }
  for (const entry of entries) {
    const parts = entry.path.split("/");
    if (parts.some((p) => p === "" || p === "." || p === ".." || p.toLowerCase() === ".git")) {
      throw new RefusedTree(`${shown(entry.path)}: not a plain relative path`);
    }
    if (!REGULAR_FILE.has(entry.mode) || entry.type !== "blob") {
      const what = WHAT[entry.mode] ?? `an entry of mode ${entry.mode} (${entry.type})`;
      throw new RefusedTree(
        `${shown(entry.path)} is ${what}: repo-local code may only hold regular files and directories`,
      );
    }
  }
}

/** Why `tree` could not run as repo-local code (a symlink…), or null: for approving it knowingly. */
export async function treeProblem(repoDir: string, tree: string): Promise<string | null> {
  try {
    check(await entriesOf(repoDir, tree));
    return null;
  } catch (error) {
    if (error instanceof RefusedTree) return error.message;
    throw error;
  }
}

/**
 * Writes the pinned tree `tree` (read from the objects of the git repo at `repoDir`) to
 * `<dest>/tests/taster`, root-owned and read-only to others; returns that directory.
 * Throws RefusedTree (naming the path) for a symlink, a submodule, any special entry or a tree
 * past the limits; nothing is written for a refused tree.
 */
export async function copyPinnedTree(repoDir: string, tree: string, dest: string): Promise<string> {
  const entries = await entriesOf(repoDir, tree);
  check(entries);
  const dir = join(dest, REPO_LOCAL_DIR);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  let bytes = 0;
  for (const entry of entries) {
    const { stdout } = await git(
      repoDir,
      ["cat-file", "blob", entry.oid],
      PINNED_LIMITS.bytes - bytes + 1,
    ).catch((error: Error) => {
      if (/maxBuffer/i.test(error.message)) throw tooBig();
      throw error;
    });
    bytes += stdout.length;
    if (bytes > PINNED_LIMITS.bytes) throw tooBig();
    const path = join(dir, entry.path);
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    // "wx": a name written twice (a crafted tree) fails rather than overwrites.
    await writeFile(path, stdout, { flag: "wx", mode: 0o644 });
    await chmod(path, 0o644);
  }
  return dir;
}

/**
 * Closes a checkout to everyone but Taster (0700): the sandbox user could otherwise read, and
 * load with a plain `require`, files beside the approved tests/taster by their path.
 */
export async function hideFromSandbox(dir: string): Promise<void> {
  await chmod(dir, 0o700);
}

const tooBig = () =>
  new RefusedTree(`${REPO_LOCAL_DIR} is larger than ${PINNED_LIMITS.bytes / 1024 / 1024} MiB`);

/**
 * The gate's decision made real: an allowed decision gets its copy (`pinnedDir`); a tree that
 * cannot be copied turns the decision into "not run", saying why.
 */
export async function materializeGate(
  gate: GateDecision,
  checkoutDir: string,
  dest: string,
): Promise<GateDecision> {
  if (!gate.allowed || !gate.treeHash) return gate;
  try {
    return { ...gate, pinnedDir: await copyPinnedTree(checkoutDir, gate.treeHash, dest) };
  } catch (error) {
    if (!(error instanceof RefusedTree)) throw error;
    return {
      ...gate,
      allowed: false,
      why: `not run: ${error.message} (the pin was approved, the content is refused)`,
    };
  }
}
