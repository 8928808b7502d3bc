import { readFile, writeFile } from "node:fs/promises";
import { usageError } from "@taster/core";
import { type Allowlist, allowlistSchema, type Pin } from "@taster/harness";
import { isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { type Checked, checkYaml, duplicates } from "./yaml-check";

/** Validates allowlist/repo-local.yml: schema (no '*', strict keys, pins) and one entry per repository. */
export function checkRepoLocal(text: string): Checked<Allowlist> {
  return checkYaml(text, allowlistSchema, (raw, lineOf) =>
    duplicates(reposIn(raw), "repository", (i) => ["recipes", i], lineOf),
  );
}

/** owner/name of each entry, lowercased: GitHub and Gitea treat the two spellings as one repository. */
function reposIn(raw: unknown): string[] {
  const recipes = (raw as { recipes?: unknown })?.recipes;
  return Array.isArray(recipes)
    ? recipes.map((r) => String((r as { repo?: unknown })?.repo ?? "").toLowerCase())
    : [];
}

export async function readChecked(path: string): Promise<{ text: string; checked: Checked<Allowlist> }> {
  const text = await readFile(path, "utf8");
  return { text, checked: checkRepoLocal(text) };
}

function recipesSeq(text: string) {
  const doc = parseDocument(text);
  let seq = doc.get("recipes", true);
  if (!isSeq(seq)) {
    seq = doc.createNode([]) as YAMLSeq;
    doc.set("recipes", seq);
  }
  // `[]` as shipped is flow style; entries read better one per line.
  (seq as YAMLSeq).flow = false;
  return { doc, seq: seq as YAMLSeq };
}

const entryIndex = (seq: YAMLSeq, repo: string) =>
  seq.items.findIndex(
    (item) => isMap(item) && String((item as YAMLMap).get("repo")).toLowerCase() === repo.toLowerCase(),
  );

/** Adds an approved pin (creating the repository's entry if needed); comments in the file are kept. */
export function addPin(text: string, repo: string, pin: Pin): string {
  const { doc, seq } = recipesSeq(text);
  const i = entryIndex(seq, repo);
  if (i < 0) {
    seq.add(doc.createNode({ repo, pins: [pin] }));
  } else {
    const pins = (seq.items[i] as YAMLMap).get("pins", true) as unknown as YAMLSeq;
    if (pins.items.some((p) => isMap(p) && (p as YAMLMap).get("tree") === pin.tree)) {
      throw usageError(`${repo} already has pin ${pin.tree}`);
    }
    pins.add(doc.createNode(pin));
  }
  return doc.toString();
}

/** Removes one pin (by tree hash) or, without one, the repository's whole entry. */
export function removePin(text: string, repo: string, tree?: string): string {
  const { doc, seq } = recipesSeq(text);
  const i = entryIndex(seq, repo);
  if (i < 0) throw usageError(`${repo} is not on the allowlist`);
  const pins = (seq.items[i] as YAMLMap).get("pins", true) as unknown as YAMLSeq;
  if (tree) {
    const j = pins.items.findIndex((p) => isMap(p) && (p as YAMLMap).get("tree") === tree);
    if (j < 0) throw usageError(`${repo} has no pin ${tree}`);
    pins.delete(j);
  }
  // An entry without pins would be invalid (and approve nothing): drop it.
  if (!tree || pins.items.length === 0) seq.delete(i);
  return doc.toString();
}

/** Writes only a result that still passes `check`: an edit never leaves a broken file behind. */
export async function writeChecked(path: string, text: string): Promise<void> {
  const { problems } = checkRepoLocal(text);
  if (problems.length)
    throw usageError(`refusing to write ${path}: ${problems.map((p) => p.message).join("; ")}`);
  await writeFile(path, text);
}
