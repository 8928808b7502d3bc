import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { childEnv, trustedBinary, usageError } from "@taster/core";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

const run = promisify(execFile);

/** Where repo-local customization lives inside a recipe repo. */
export const REPO_LOCAL_DIR = "tests/taster";

/** owner/name as the forge spells it (GitHub, Gitea/Forgejo): what a pin approves code for. */
export const REPO_PATTERN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

const repoName = z
  .string({ error: "required: the recipe's repository as owner/name, e.g. coop-cloud/hello-web" })
  .refine((name) => !name.includes("*"), { message: "'*' is not a wildcard: list each repository" })
  .refine((name) => name.includes("*") || REPO_PATTERN.test(name), {
    message: "not owner/name (e.g. coop-cloud/hello-web, no forge prefix)",
  });

const pinSchema = z.strictObject({
  tree: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "a git tree hash (40 or 64 hex chars)"),
  approvedBy: z.string().min(1),
  approvedAt: z.string().min(1),
  why: z.string().min(1),
});

/** Pins were once keyed by the recipe's name alone; such an entry gets a message saying what to write. */
const oldName = z
  .never({
    error: (issue) =>
      `pins are keyed by repository now: replace 'name: ${String(issue.input)}' with 'repo: <owner>/${String(issue.input)}' (e.g. coop-cloud/${String(issue.input)})`,
  })
  .optional();

const entrySchema = z.strictObject({
  repo: repoName,
  pins: z.array(pinSchema).min(1, "an entry needs at least one approved pin"),
  name: oldName,
});

export const allowlistSchema = z.strictObject({ recipes: z.array(entrySchema) });
export type Allowlist = z.infer<typeof allowlistSchema>;
export type Pin = z.infer<typeof pinSchema>;

export const EMPTY_ALLOWLIST: Allowlist = { recipes: [] };

/** Parses and validates an allowlist file; any problem names the file and the offending key. */
export async function loadAllowlist(path: string): Promise<Allowlist> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw usageError(`allowlist ${path} cannot be read`);
  }
  return parseAllowlist(text, path);
}

export function parseAllowlist(text: string, source = "allowlist"): Allowlist {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (error) {
    throw usageError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = allowlistSchema.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw usageError(`${source}: ${problems.join("; ")}`);
  }
  const repos = parsed.data.recipes.map((r) => r.repo.toLowerCase());
  const dup = repos.find((n, i) => repos.indexOf(n) !== i);
  if (dup) throw usageError(`${source}: repository '${dup}' is listed twice`);
  return parsed.data;
}

export interface GateDecision {
  allowed: boolean;
  why: string;
  /** The git tree hash of tests/taster in the checkout, null when there is none. */
  treeHash: string | null;
  /** Where the approved code runs from: Taster's copy of the pinned tree (see pinned-copy.ts). */
  pinnedDir?: string;
  /** Not approved: the exact command an admin runs, after review, to approve this content. */
  approve?: string;
}

/** `./taster allowlist add …` for this content (see apps/cli/src/commands/allowlist.ts). */
export function approveCommand(repo: string | undefined, treeHash: string): string {
  return `./taster allowlist add ${repo ?? "<owner/name>"} --tree ${treeHash} --by <your login> --why "<what you reviewed>"`;
}

const ADMIN_PINS = "an admin reviews it and pins it (docs/allowlist.md)";

/** The git tree hash of the checkout's tests/taster, i.e. exactly the content that would run. */
export async function repoLocalTreeHash(checkoutDir: string): Promise<string | null> {
  try {
    const { stdout } = await run(trustedBinary("git"), ["rev-parse", `HEAD:${REPO_LOCAL_DIR}`], {
      cwd: checkoutDir,
      env: childEnv(), // the system's git, a closed environment: no token, no GIT_DIR of a caller
    });
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/**
 * THE gate for repo-local code (default-deny). A repository entry alone is not enough: the content
 * of tests/taster must hash to a pin a maintainer approved for this very repository (owner/name),
 * so a PR that adds or changes that code, or a fork of an approved recipe, does not get it
 * executed by a `!testme`. `repo` is undefined when the run does not know its repository (a local
 * run without `--repo`): nothing is approved then.
 */
export async function gateRepoLocal(
  allowlist: Allowlist,
  repo: string | undefined,
  checkoutDir: string,
): Promise<GateDecision> {
  const treeHash = await repoLocalTreeHash(checkoutDir);
  if (!treeHash) return { allowed: false, why: `no ${REPO_LOCAL_DIR} in the recipe`, treeHash };
  if (!repo || !REPO_PATTERN.test(repo)) {
    return {
      allowed: false,
      why: `the run does not know the recipe's repository (owner/name), so no pin applies; a local run passes --repo owner/name, and ${ADMIN_PINS}`,
      treeHash,
      approve: approveCommand(undefined, treeHash),
    };
  }
  const entry = allowlist.recipes.find((r) => r.repo.toLowerCase() === repo.toLowerCase());
  if (!entry) {
    return {
      allowed: false,
      why: `${repo} is not on the repo-local allowlist (default-deny): ${ADMIN_PINS}`,
      treeHash,
      approve: approveCommand(repo, treeHash),
    };
  }
  const pin = entry.pins.find((p) => p.tree === treeHash);
  if (!pin) {
    return {
      allowed: false,
      why: `${REPO_LOCAL_DIR} content ${treeHash.slice(0, 12)} is not an approved pin for ${repo} (approved: ${entry.pins.map((p) => p.tree.slice(0, 12)).join(", ")}): ${ADMIN_PINS}`,
      treeHash,
      approve: approveCommand(repo, treeHash),
    };
  }
  return {
    allowed: true,
    why: `approved for ${repo} by ${pin.approvedBy} on ${pin.approvedAt} (pin ${treeHash.slice(0, 12)}): ${pin.why}`,
    treeHash,
  };
}
