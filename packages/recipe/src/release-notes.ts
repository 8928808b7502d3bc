import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { recipePath } from "./env";

/**
 * Release notes (`release/<version>` files, which `abra app upgrade` shows operators before it
 * deploys) added or changed since the base, and the steps they tell operators to take.
 *
 * The form Taster reads (docs/swarm.md, "abra app new, secrets and labels"):
 * - an env line to add: `KEY=value` in backticks anywhere (`` add `SMTP_HOST=mail` to your .env ``),
 *   or alone on a line (optionally after `- `, `* `, `$ `, `export `); KEY is upper case;
 * - a secret to create: `abra app secret generate <app> <name> <version>` (or `--all`), or
 *   `abra app secret insert <app> <name> <version> <value>`, as the operator would type it.
 */
export interface ReleaseNote {
  /** e.g. `release/1.1.0+1.0`. */
  file: string;
  text: string;
}

export interface OperatorSteps {
  env: { key: string; value: string; from: string }[];
  /** Secret names the notes have operators generate or insert; `all` for `generate --all`. */
  secrets: { name: string; from: string }[];
  allSecrets: boolean;
}

const RELEASE_DIR = "release";

/** Notes in the head's `release/` that the base does not have with the same text. */
export async function newReleaseNotes(headDir: string, baseDir: string | null): Promise<ReleaseNote[]> {
  const head = await readNotes(headDir);
  const base = baseDir ? await readNotes(baseDir) : new Map<string, string>();
  return [...head].filter(([file, text]) => base.get(file) !== text).map(([file, text]) => ({ file, text }));
}

async function readNotes(dir: string): Promise<Map<string, string>> {
  const notes = new Map<string, string>();
  if ((await recipePath(dir, RELEASE_DIR)) !== "inside") return notes;
  for (const entry of await readdir(join(dir, RELEASE_DIR), { withFileTypes: true })) {
    const file = `${RELEASE_DIR}/${entry.name}`;
    // A note that is a symlink out of the recipe is not read (it could be any file of the worker).
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    if ((await recipePath(dir, file)) !== "inside") continue;
    notes.set(file, await readFile(join(dir, file), "utf8"));
  }
  return notes;
}

const ASSIGNMENT = /^([A-Z_][A-Z0-9_]*)=(.*)$/;

export function operatorSteps(notes: ReleaseNote[]): OperatorSteps {
  const steps: OperatorSteps = { env: [], secrets: [], allSecrets: false };
  for (const note of notes) {
    for (const [index, raw] of note.text.split(/\r?\n/).entries()) {
      const from = `${note.file}:${index + 1}`;
      for (const assignment of assignmentsIn(raw)) steps.env.push({ ...assignment, from });
      for (const match of raw.matchAll(/abra app secret (generate|gen|g|insert|i)\s+(\S+)\s+([^\s`]+)/g)) {
        if (match[3] === "--all" || match[3] === "-a") steps.allSecrets = true;
        else if (match[3]) steps.secrets.push({ name: match[3], from });
      }
    }
  }
  return steps;
}

function assignmentsIn(line: string): { key: string; value: string }[] {
  const found: { key: string; value: string }[] = [];
  for (const match of line.matchAll(/`([^`]+)`/g)) {
    const parsed = ASSIGNMENT.exec(match[1]?.trim() ?? "");
    if (parsed?.[1]) found.push({ key: parsed[1], value: unquote(parsed[2] ?? "") });
  }
  if (found.length > 0) return found;
  const bare = ASSIGNMENT.exec(line.trim().replace(/^(?:[-*$]\s+|export\s+)/, ""));
  return bare?.[1] && !/\s/.test(bare[2] ?? "") ? [{ key: bare[1], value: unquote(bare[2] ?? "") }] : [];
}

function unquote(value: string): string {
  const v = value.trim();
  return /^(['"]).*\1$/.test(v) ? v.slice(1, -1) : v;
}
