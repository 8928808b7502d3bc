import { readFile, realpath } from "node:fs/promises";
import { join, sep } from "node:path";
import { isSteeringKey, recipeError } from "@taster/core";
import { type SecretHint, secretHintOf } from "./secret-hints";

/**
 * The app env the way abra assembles it: `.env.sample` (shell-like, with `$VAR` expansion and the
 * `COMPOSE_FILE` chain), `abra.sh` `export` lines (parsed, never executed), `STACK_NAME`, `DOMAIN`,
 * then the caller's overrides, which win.
 */
export interface AppEnv {
  env: Record<string, string>;
  /** Compose files in `COMPOSE_FILE` order, relative to the recipe dir. */
  composeFiles: string[];
  /** Secret name (lower case, as in compose) → generated length from a `# length=N` hint. */
  secretLengths: Record<string, number>;
  /** Secret name → how abra generates it (`length`, `charset`, `generate=false`). */
  secretHints: Record<string, SecretHint>;
}

export interface LoadAppEnvOptions {
  stackName: string;
  domain: string;
  overrides?: Record<string, string>;
  /** Where the overrides come from, for errors (default "the env overrides"). */
  overridesFrom?: string;
  /**
   * The app's env file instead of the recipe's `.env.sample`: an operator's `.env`, made once from
   * the base release's `.env.sample` at `abra app new` (see app-env.ts). `name` is used in errors.
   */
  envFile?: { text: string; name: string };
}

/** One `KEY=value` line, as parsed. */
export interface EnvLine {
  key: string;
  value: string;
  line: number;
  /** The trailing `# …` comment, if any (where `length=N` hints live). */
  comment?: string;
}

const ENV_FILE = ".env.sample";
const ABRA_SH = "abra.sh";
const DEFAULT_COMPOSE_FILE = "compose.yml";
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function loadAppEnv(dir: string, options: LoadAppEnvOptions): Promise<AppEnv> {
  const overrides = options.overrides ?? {};
  const refused = new Refused();
  for (const key of Object.keys(overrides)) refused.check(key, options.overridesFrom ?? "the env overrides");
  const fixed: Record<string, string> = {
    STACK_NAME: options.stackName,
    DOMAIN: options.domain,
    ...overrides,
  };
  const env: Record<string, string> = { STACK_NAME: options.stackName };
  const composeOrigin = new Map<string, string>();
  const secretLengths: Record<string, number> = {};
  const secretHints: Record<string, SecretHint> = {};

  // A value may refer to STACK_NAME, DOMAIN or an override even where the file does not set them.
  const lookup = (name: string) => env[name] ?? fixed[name];
  // Line numbers point into a `.env.sample` (the app env is one, copied at `abra app new`): name
  // that file, so a refused key reads `PATH (.env.sample:11)` whichever release it came from.
  const envName = ENV_FILE;
  const sample = options.envFile ? options.envFile.text : await readRecipeFile(dir, ENV_FILE);
  for (const entry of parseEnvFile(sample ?? "", envName, lookup)) {
    const where = `${envName}:${entry.line}`;
    if (!refused.check(entry.key, where)) continue;
    env[entry.key] = fixed[entry.key] ?? entry.value;
    if (entry.key === "COMPOSE_FILE") noteComposeOrigins(env.COMPOSE_FILE ?? "", where, composeOrigin);
    const secret = secretHintOf(entry.key, entry.comment, where);
    if (!secret) continue;
    secretHints[secret.name] = secret.hint;
    if (secret.hint.length) secretLengths[secret.name] = secret.hint.length;
  }

  const abraSh = await readRecipeFile(dir, ABRA_SH);
  for (const entry of parseAbraShExports(abraSh ?? "", lookup)) {
    if (!refused.check(entry.key, `${ABRA_SH}:${entry.line}`)) continue;
    env[entry.key] = fixed[entry.key] ?? entry.value;
  }
  refused.throwIfAny();

  Object.assign(env, fixed);
  env.COMPOSE_FILE ??= DEFAULT_COMPOSE_FILE;
  if (overrides.COMPOSE_FILE !== undefined)
    noteComposeOrigins(env.COMPOSE_FILE, "the COMPOSE_FILE override", composeOrigin);
  if (!composeOrigin.size) noteComposeOrigins(env.COMPOSE_FILE, "the default COMPOSE_FILE", composeOrigin);
  const composeFiles = composeFileList(env.COMPOSE_FILE);
  for (const file of composeFiles) {
    const origin = composeOrigin.get(file) ?? ENV_FILE;
    const where = await recipePath(dir, file);
    if (where === "missing")
      throw recipeError(`COMPOSE_FILE entry "${file}" (from ${origin}) does not exist in the recipe`);
    if (where === "outside")
      throw recipeError(`COMPOSE_FILE entry "${file}" (from ${origin}) resolves outside the recipe`);
  }
  return { env, composeFiles, secretLengths, secretHints };
}

/**
 * The app env is data, yet it becomes the environment of the Docker CLI that renders the compose
 * files: a name that steers a process (PATH, LD_PRELOAD, NODE_OPTIONS, DOCKER_HOST, GIT_*,
 * TASTER_*…) is refused wherever it is set, all of them in one error.
 */
class Refused {
  private readonly found: string[] = [];

  /** False (and noted) when `key` may not be set. */
  check(key: string, where: string): boolean {
    if (!isSteeringKey(key)) return true;
    this.found.push(`${key} (${where})`);
    return false;
  }

  throwIfAny(): void {
    if (!this.found.length) return;
    const first = this.found[0]?.split(" ")[0] ?? "KEY";
    throw recipeError(
      `the recipe env sets ${this.found.join(", ")}: a variable with this name would steer the programs Taster runs, so it is refused`,
      `rename it (e.g. APP_${first}) and map it in the compose file's environment: section; the refused names are listed in docs/swarm.md`,
    );
  }
}
/**
 * Parses a shell-like env file. `lookup` resolves `$VAR` for keys defined earlier; keys defined in
 * this file are visible to later lines through the caller updating what `lookup` sees.
 */
export function* parseEnvFile(
  text: string,
  fileName: string,
  lookup: (name: string) => string | undefined,
): Generator<EnvLine> {
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    yield parseAssignment(trimmed.replace(/^export\s+/, ""), `${fileName}:${index + 1}`, index + 1, lookup);
  }
}

/** `abra.sh` is a shell script: only its top-level `export NAME=value` lines join the env. */
export function* parseAbraShExports(
  text: string,
  lookup: (name: string) => string | undefined,
): Generator<EnvLine> {
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    // Unindented only: an indented export sits inside a function body abra would not run at load.
    const match = /^export\s+([A-Za-z_][A-Za-z0-9_]*=.*)$/.exec(raw.trimEnd());
    if (match?.[1]) yield parseAssignment(match[1], `${ABRA_SH}:${index + 1}`, index + 1, lookup);
  }
}

function parseAssignment(
  text: string,
  where: string,
  line: number,
  lookup: (name: string) => string | undefined,
): EnvLine {
  const eq = text.indexOf("=");
  const key = eq < 0 ? text : text.slice(0, eq).trim();
  if (eq < 0 || !KEY.test(key)) throw recipeError(`${where}: expected KEY=value, got "${text}"`);
  const { value, comment } = parseValue(text.slice(eq + 1), where, lookup);
  return comment === undefined ? { key, value, line } : { key, value, line, comment };
}

function parseValue(
  rest: string,
  where: string,
  lookup: (name: string) => string | undefined,
): { value: string; comment?: string } {
  const quote = rest[0];
  if (quote === "'" || quote === '"') {
    const end = closingQuote(rest, quote);
    if (end < 0) throw recipeError(`${where}: unterminated ${quote} quote`);
    const inner = rest.slice(1, end);
    const after = rest.slice(end + 1).trim();
    if (after !== "" && !after.startsWith("#"))
      throw recipeError(`${where}: unexpected text after closing quote: "${after}"`);
    const value = quote === "'" ? inner : expand(unescapeDoubleQuoted(inner), where, lookup);
    return withComment(value, after);
  }
  // Unquoted: a `#` starts a comment only after whitespace (`a#b` is a value), as in the shell.
  const hash = /(^|\s)#/.exec(rest);
  const raw = hash ? rest.slice(0, hash.index) : rest;
  return withComment(expand(raw.trim(), where, lookup), hash ? rest.slice(hash.index).trim() : "");
}

function withComment(value: string, comment: string): { value: string; comment?: string } {
  return comment ? { value, comment: comment.replace(/^#\s*/, "") } : { value };
}

function closingQuote(text: string, quote: string): number {
  for (let i = 1; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

function unescapeDoubleQuoted(text: string): string {
  // `\$` stays escaped until expansion has run, so it can survive as a literal dollar.
  return text.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
}

/** `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`; unknown names expand to "" as in the shell. */
function expand(text: string, where: string, lookup: (name: string) => string | undefined): string {
  return text.replace(
    /\\\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{/g,
    (match, braced: string | undefined, bare: string | undefined) => {
      if (match === "\\$") return "$";
      if (bare !== undefined) return lookup(bare) ?? "";
      if (braced === undefined) throw recipeError(`${where}: unterminated \${ in value`);
      const parts = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*))?$/.exec(braced);
      if (!parts?.[1]) throw recipeError(`${where}: bad substitution \${${braced}}`);
      const current = lookup(parts[1]);
      if (parts[2] === ":-") return current ? current : expand(parts[3] ?? "", where, lookup);
      if (parts[2] === "-") return current ?? expand(parts[3] ?? "", where, lookup);
      return current ?? "";
    },
  );
}

export function composeFileList(value: string): string[] {
  return value
    .split(":")
    .map((file) => file.trim())
    .filter((file) => file !== "");
}

function noteComposeOrigins(value: string, origin: string, origins: Map<string, string>): void {
  for (const file of composeFileList(value)) if (!origins.has(file)) origins.set(file, origin);
}

/** Where `file` (relative to the recipe) really is, following symlinks: inside, outside, or missing. */
export async function recipePath(dir: string, file: string): Promise<"inside" | "outside" | "missing"> {
  let root: string;
  let target: string;
  try {
    root = await realpath(dir);
    target = await realpath(join(dir, file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw error;
  }
  return target === root || target.startsWith(root + sep) ? "inside" : "outside";
}

/**
 * A recipe file's text, or undefined when there is none. A symlink that leads out of the recipe
 * (e.g. `.env.sample -> /etc/taster/worker.env`) is refused: it would read the worker's files.
 */
export async function readRecipeFile(dir: string, file: string): Promise<string | undefined> {
  const where = await recipePath(dir, file);
  if (where === "missing") return undefined;
  if (where === "outside") throw recipeError(`${file} is a symlink that leads outside the recipe`);
  return readFile(join(dir, file), "utf8");
}
