import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { usageError } from "@taster/core";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

const run = promisify(execFile);

/** Where repo-local customization lives inside a recipe repo. */
export const REPO_LOCAL_DIR = "tests/taster";

const recipeName = z
  .string()
  .refine((name) => name !== "*", { message: "'*' is not a wildcard: list each recipe by name" })
  .refine((name) => /^[a-z0-9][a-z0-9._-]*$/.test(name), { message: "not a recipe name" });

const pinSchema = z.strictObject({
  tree: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "a git tree hash (40 or 64 hex chars)"),
  approvedBy: z.string().min(1),
  approvedAt: z.string().min(1),
  why: z.string().min(1),
});

const entrySchema = z.strictObject({
  name: recipeName,
  pins: z.array(pinSchema).min(1, "an entry needs at least one approved pin"),
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
  const names = parsed.data.recipes.map((r) => r.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw usageError(`${source}: recipe '${dup}' is listed twice`);
  return parsed.data;
}

export interface GateDecision {
  allowed: boolean;
  why: string;
  /** The git tree hash of tests/taster in the checkout, null when there is none. */
  treeHash: string | null;
}

/** The git tree hash of the checkout's tests/taster, i.e. exactly the content that would run. */
export async function repoLocalTreeHash(checkoutDir: string): Promise<string | null> {
  try {
    const { stdout } = await run("git", ["rev-parse", `HEAD:${REPO_LOCAL_DIR}`], { cwd: checkoutDir });
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/**
 * THE gate for repo-local code (default-deny). A recipe entry alone is not enough: the content of
 * tests/taster must hash to a pin a maintainer approved, so a PR that adds or changes that code
 * does not get it executed by a `!testme`.
 */
export async function gateRepoLocal(
  allowlist: Allowlist,
  recipe: string,
  checkoutDir: string,
): Promise<GateDecision> {
  const treeHash = await repoLocalTreeHash(checkoutDir);
  if (!treeHash) return { allowed: false, why: `no ${REPO_LOCAL_DIR} in the recipe`, treeHash };
  const entry = allowlist.recipes.find((r) => r.name === recipe);
  if (!entry) {
    return { allowed: false, why: `${recipe} is not on the repo-local allowlist (default-deny)`, treeHash };
  }
  const pin = entry.pins.find((p) => p.tree === treeHash);
  if (!pin) {
    return {
      allowed: false,
      why: `${REPO_LOCAL_DIR} content ${treeHash.slice(0, 12)} is not an approved pin for ${recipe} (approved: ${entry.pins.map((p) => p.tree.slice(0, 12)).join(", ")}); a maintainer must review and pin it`,
      treeHash,
    };
  }
  return {
    allowed: true,
    why: `approved by ${pin.approvedBy} on ${pin.approvedAt} (pin ${treeHash.slice(0, 12)}): ${pin.why}`,
    treeHash,
  };
}
