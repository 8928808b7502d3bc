import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tasterRoot } from "@taster/config";
import { usageError } from "@taster/core";
import { REPO_PATTERN, repoLocalTreeHash, treeProblem } from "@taster/harness";
import { fetchRecipe, makeWorkspace } from "@taster/recipe";
import type { Command } from "commander";
import { addPin, readChecked, removePin, writeChecked } from "../allowlist/repo-local";
import {
  addTriggerer,
  checkTriggerers,
  removeTriggerer,
  writeCheckedTriggerers,
} from "../allowlist/triggerers";
import type { Problem } from "../allowlist/yaml-check";

const ROOT = tasterRoot();
const DEFAULT_FILE = join(ROOT, "allowlist", "repo-local.yml");
const TRIGGERERS_FILE = join(ROOT, "allowlist", "triggerers.yml");

const print = (line: string) => process.stdout.write(`${line}\n`);

function report(file: string, problems: Problem[]): void {
  for (const p of problems) process.stderr.write(`${file}:${p.line}: ${p.message}\n`);
}

/** The tree hash of tests/taster at a ref of a recipe repo: exactly the content being approved. */
async function treeFrom(repo: string, ref: string): Promise<string> {
  const workspace = await makeWorkspace(tmpdir(), "allowlist");
  try {
    const { dir, sha } = await fetchRecipe({ url: repo, ref, workspace: workspace.dir });
    const tree = await repoLocalTreeHash(dir);
    if (!tree) throw usageError(`${repo} has no tests/taster at ${ref} (${sha.slice(0, 12)})`);
    const problem = await treeProblem(dir, tree);
    if (problem) throw usageError(`${problem}: a run would refuse this tree, so it is not pinned`);
    print(`tests/taster at ${ref} (${sha.slice(0, 12)}) is tree ${tree}`);
    return tree;
  } finally {
    await workspace.cleanup();
  }
}

/**
 * A repository argument as the allowlists write it: owner/name. The forge prefix of
 * TASTER_ENROLLED_REPOS (`gitea:owner/name`) is not part of it: an entry applies to that
 * owner/name on whichever forge the run comes from.
 */
export function repoArgument(value: string, what: string): string {
  const prefixed = /^([a-z]+):([^/]+\/[^/]+)$/i.exec(value);
  if (prefixed) {
    throw usageError(
      `${what} ${JSON.stringify(value)}: write the repository as owner/name, without the forge prefix`,
      `e.g. ${what} ${prefixed[2]} (the "${prefixed[1]}:" prefix belongs to TASTER_ENROLLED_REPOS only)`,
    );
  }
  if (!REPO_PATTERN.test(value)) {
    throw usageError(`${what} ${JSON.stringify(value)}: not owner/name`, `e.g. ${what} coop-cloud/hello-web`);
  }
  return value;
}

async function loadValid(file: string) {
  const { text, checked } = await readChecked(file);
  if (!checked.value) {
    report(file, checked.problems);
    throw usageError(`${file} is not valid; fix it first (see above)`);
  }
  return { text, allowlist: checked.value };
}

interface AddFlags {
  file: string;
  tree?: string;
  from?: string;
  ref: string;
  by: string;
  why: string;
}

export function registerAllowlist(program: Command): void {
  const allowlist = program
    .command("allowlist")
    .description("the repo-local code allowlist (allowlist/repo-local.yml): default-deny, pinned to content");

  allowlist
    .command("list")
    .description("who approved what, when and why")
    .option("--file <path>", "allowlist file", DEFAULT_FILE)
    .action(async (flags: { file: string }) => {
      const { allowlist: list } = await loadValid(flags.file);
      if (list.recipes.length === 0) print("no recipe may run repo-local code (default-deny)");
      for (const entry of list.recipes) {
        print(entry.repo);
        for (const pin of entry.pins)
          print(`  ${pin.tree}  by ${pin.approvedBy} on ${pin.approvedAt}: ${pin.why}`);
      }
    });

  allowlist
    .command("check")
    .description("validate the allowlist and the triggerers list (for CI); each problem with its line")
    .option("--file <path>", "allowlist file", DEFAULT_FILE)
    .option("--triggerers <path>", "triggerers file", TRIGGERERS_FILE)
    .action(async (flags: { file: string; triggerers: string }) => {
      const { checked } = await readChecked(flags.file);
      report(flags.file, checked.problems);
      const triggerers = checkTriggerers(await readFile(flags.triggerers, "utf8"));
      report(flags.triggerers, triggerers.problems);
      if (checked.problems.length || triggerers.problems.length) {
        process.exitCode = 1;
        return;
      }
      print(
        `${flags.file}: ok (${checked.value?.recipes.length ?? 0} repositor${checked.value?.recipes.length === 1 ? "y" : "ies"})`,
      );
      print(`${flags.triggerers}: ok (${triggerers.value?.triggerers.length ?? 0} triggerer(s))`);
    });

  allowlist
    .command("add")
    .description("approve a recipe repository's tests/taster content (pinned by git tree hash)")
    .argument("<owner/name>", "the recipe's repository, e.g. coop-cloud/hello-web")
    .option("--file <path>", "allowlist file", DEFAULT_FILE)
    .option("--tree <hash>", "the approved tree hash (git rev-parse <sha>:tests/taster)")
    .option("--from <repo>", "compute the tree hash from this recipe repo (URL or path)")
    .option("--ref <ref>", "with --from: the ref whose tests/taster you reviewed", "HEAD")
    .requiredOption("--by <login>", "who approves")
    .requiredOption("--why <text>", "what was reviewed")
    .action(async (repoArg: string, flags: AddFlags) => {
      const repo = repoArgument(repoArg, "allowlist add");
      if (!flags.tree === !flags.from) throw usageError("give exactly one of --tree or --from");
      const tree = flags.tree ?? (await treeFrom(flags.from as string, flags.ref));
      const { text } = await loadValid(flags.file);
      const pin = {
        tree,
        approvedBy: flags.by,
        approvedAt: new Date().toISOString().slice(0, 10),
        why: flags.why,
      };
      await writeChecked(flags.file, addPin(text, repo, pin));
      print(`${repo}: approved tests/taster tree ${tree}`);
    });

  allowlist
    .command("remove")
    .description("withdraw one pin, or a recipe's whole entry")
    .argument("<owner/name>", "the recipe's repository")
    .option("--file <path>", "allowlist file", DEFAULT_FILE)
    .option("--tree <hash>", "only this pin")
    .action(async (repoArg: string, flags: { file: string; tree?: string }) => {
      const repo = repoArgument(repoArg, "allowlist remove");
      const text = await readFile(flags.file, "utf8");
      await writeChecked(flags.file, removePin(text, repo, flags.tree));
      print(flags.tree ? `${repo}: pin ${flags.tree} removed` : `${repo}: removed from the allowlist`);
    });

  registerTriggerers(allowlist);
}

/** `allowlist triggerers …`: who may trigger runs besides org members and writers. */
function registerTriggerers(allowlist: Command): void {
  const triggerers = allowlist
    .command("triggerers")
    .description("allowlist/triggerers.yml: extra people who may comment !testme");
  const fileOption = ["--file <path>", "triggerers file", TRIGGERERS_FILE] as const;

  triggerers
    .command("list")
    .option(...fileOption)
    .action(async (flags: { file: string }) => {
      const checked = checkTriggerers(await readFile(flags.file, "utf8"));
      if (!checked.value) {
        report(flags.file, checked.problems);
        throw usageError(`${flags.file} is not valid; fix it first (see above)`);
      }
      if (checked.value.triggerers.length === 0)
        print("nobody beyond org members and collaborators with write access");
      for (const t of checked.value.triggerers) {
        print(
          typeof t === "string"
            ? `${t}  (all enrolled repos)`
            : `${t.login}  (${t.repos?.join(", ") ?? "all enrolled repos"})`,
        );
      }
    });

  triggerers
    .command("add")
    .argument("<login>", "forge login")
    .option(...fileOption)
    .option("--repo <owner/name...>", "only on these repos")
    .action(async (login: string, flags: { file: string; repo?: string[] }) => {
      const repos = (flags.repo ?? []).map((repo) => repoArgument(repo, "--repo"));
      const text = await readFile(flags.file, "utf8");
      await writeCheckedTriggerers(flags.file, addTriggerer(text, login, repos));
      print(`${login} may now trigger runs${flags.repo ? ` on ${flags.repo.join(", ")}` : ""}`);
    });

  triggerers
    .command("remove")
    .argument("<login>", "forge login")
    .option(...fileOption)
    .action(async (login: string, flags: { file: string }) => {
      await writeCheckedTriggerers(flags.file, removeTriggerer(await readFile(flags.file, "utf8"), login));
      print(`${login} removed from the triggerers`);
    });
}
