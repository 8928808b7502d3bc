import { writeFile } from "node:fs/promises";
import { usageError } from "@taster/core";
import { triggerersFileSchema } from "@taster/forge";
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { type Checked, checkYaml, duplicates } from "./yaml-check";

type TriggerersFile = ReturnType<typeof triggerersFileSchema.parse>;

const loginOf = (entry: unknown): string =>
  typeof entry === "string" ? entry : String((entry as { login?: unknown })?.login ?? "");

/** Validates allowlist/triggerers.yml: schema (strict keys, logins, owner/name repos), no repeats. */
export function checkTriggerers(text: string): Checked<TriggerersFile> {
  return checkYaml(text, triggerersFileSchema, (raw, lineOf) => {
    const list = (raw as { triggerers?: unknown })?.triggerers;
    const logins = Array.isArray(list) ? list.map(loginOf) : [];
    return duplicates(logins, "login", (i) => ["triggerers", i], lineOf);
  });
}

function triggerersSeq(text: string) {
  const doc = parseDocument(text);
  let seq = doc.get("triggerers", true);
  if (!isSeq(seq)) {
    seq = doc.createNode([]) as YAMLSeq;
    doc.set("triggerers", seq);
  }
  // `[]` as shipped is flow style; entries read better one per line.
  (seq as YAMLSeq).flow = false;
  return { doc, seq: seq as YAMLSeq };
}

const indexOf = (seq: YAMLSeq, login: string) =>
  seq.items.findIndex((item) =>
    isScalar(item) ? item.value === login : isMap(item) && (item as YAMLMap).get("login") === login,
  );

/** Adds a login (optionally limited to some repos); the file's comments are kept. */
export function addTriggerer(text: string, login: string, repos: string[] = []): string {
  const { doc, seq } = triggerersSeq(text);
  if (indexOf(seq, login) >= 0) throw usageError(`${login} is already a triggerer`);
  seq.add(doc.createNode(repos.length ? { login, repos } : login));
  return doc.toString();
}

export function removeTriggerer(text: string, login: string): string {
  const { doc, seq } = triggerersSeq(text);
  const i = indexOf(seq, login);
  if (i < 0) throw usageError(`${login} is not in the triggerers list`);
  seq.delete(i);
  return doc.toString();
}

export async function writeCheckedTriggerers(path: string, text: string): Promise<void> {
  const { problems } = checkTriggerers(text);
  if (problems.length)
    throw usageError(`refusing to write ${path}: ${problems.map((p) => p.message).join("; ")}`);
  await writeFile(path, text);
}
