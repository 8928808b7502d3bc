import { readFile, writeFile } from "node:fs/promises";
import { type Allowlist, allowlistSchema, type Pin } from "@taster/harness";
import { isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { type Checked, checkYaml, duplicates } from "./yaml-check";

/** Validates allowlist/repo-local.yml: schema (no '*', strict keys, pins) and one entry per recipe. */
export function checkRepoLocal(text: string): Checked<Allowlist> {
  return checkYaml(text, allowlistSchema, (raw, lineOf) =>
    duplicates(namesIn(raw), "recipe", (i) => ["recipes", i], lineOf),
  );
}

function namesIn(raw: unknown): string[] {
  const recipes = (raw as { recipes?: unknown })?.recipes;
  return Array.isArray(recipes) ? recipes.map((r) => String((r as { name?: unknown })?.name ?? "")) : [];
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

const entryIndex = (seq: YAMLSeq, recipe: string) =>
  seq.items.findIndex((item) => isMap(item) && (item as YAMLMap).get("name") === recipe);

/** Adds an approved pin (creating the recipe's entry if needed); comments in the file are kept. */
export function addPin(text: string, recipe: string, pin: Pin): string {
  const { doc, seq } = recipesSeq(text);
  const i = entryIndex(seq, recipe);
  if (i < 0) {
    seq.add(doc.createNode({ name: recipe, pins: [pin] }));
  } else {
    const pins = (seq.items[i] as YAMLMap).get("pins", true) as unknown as YAMLSeq;
    if (pins.items.some((p) => isMap(p) && (p as YAMLMap).get("tree") === pin.tree)) {
      throw new Error(`${recipe} already has pin ${pin.tree}`);
    }
    pins.add(doc.createNode(pin));
  }
  return doc.toString();
}

/** Removes one pin (by tree hash) or, without one, the recipe's whole entry. */
export function removePin(text: string, recipe: string, tree?: string): string {
  const { doc, seq } = recipesSeq(text);
  const i = entryIndex(seq, recipe);
  if (i < 0) throw new Error(`${recipe} is not on the allowlist`);
  const pins = (seq.items[i] as YAMLMap).get("pins", true) as unknown as YAMLSeq;
  if (tree) {
    const j = pins.items.findIndex((p) => isMap(p) && (p as YAMLMap).get("tree") === tree);
    if (j < 0) throw new Error(`${recipe} has no pin ${tree}`);
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
    throw new Error(`refusing to write ${path}: ${problems.map((p) => p.message).join("; ")}`);
  await writeFile(path, text);
}
