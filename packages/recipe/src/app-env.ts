import { readRecipeFile } from "./env";

/**
 * An app's `.env` as an operator has it. `abra app new <recipe>` copies the `.env.sample` of the
 * release it installs into `~/.abra/servers/<server>/<domain>.env`, once; an upgrade never
 * rewrites it (the operator edits it with `abra app config`). Taster makes it from the upgrade
 * base's `.env.sample` at install and deploys the head with it, so a head that needs more than
 * that file has fails the way it would for every existing install.
 */
export interface AppEnvFile {
  text: string;
  /** Named in errors and the manifest, e.g. `.env (from 1.0.0+1.0's .env.sample)`. */
  name: string;
  /** Lines Taster appended as a release note told operators to (key, value source, note file). */
  added: { key: string; from: string }[];
}

/** `abra app new`: the release's `.env.sample`, verbatim (comments and secret hints included). */
export async function newAppEnv(dir: string, release: string): Promise<AppEnvFile> {
  const text = (await readRecipeFile(dir, ".env.sample")) ?? "";
  return { text, name: `.env (from ${release}'s .env.sample)`, added: [] };
}

/** The env file with `KEY=value` lines appended (what `abra app config` + save does). */
export function withAddedLines(
  env: AppEnvFile,
  lines: { key: string; value: string; comment?: string; from: string }[],
): AppEnvFile {
  if (lines.length === 0) return env;
  const appended = lines.map((l) => `${l.key}=${quote(l.value)}${l.comment ? ` # ${l.comment}` : ""}`);
  const text = `${env.text.replace(/\n?$/, "\n")}${appended.join("\n")}\n`;
  return { ...env, text, added: [...env.added, ...lines.map((l) => ({ key: l.key, from: l.from }))] };
}

// Single quotes keep a value literal in the env file's shell-like syntax.
function quote(value: string): string {
  return /^[A-Za-z0-9_./:@+-]*$/.test(value) ? value : `'${value.replace(/'/g, "")}'`;
}
