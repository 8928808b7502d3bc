import { recipeError } from "@taster/core";

/**
 * How abra generates one secret, from the comment after `SECRET_<NAME>_VERSION=v1` in the env
 * file: `# length=32 charset=default,special generate=false` (modifiers separated by spaces).
 *
 * abra's rules (pkg/secret/secret.go, `abra app secret generate`; alphabets from
 * github.com/decentral1se/passgen const.go, the generator abra uses):
 * - `length=N`: a password of N characters (passgen accepts 5..1024); without it, a passphrase.
 * - `charset=`: comma-separated `default` (passgen AlphabetDefault: letters and digits without the
 *   ambiguous l, I, O, 0, 1) and `special` (AlphabetSpecial `!@#$%^&*_-+=`); default `default`.
 * - `generate=false`: never generated; an operator inserts it (`abra app secret insert`).
 */
export interface SecretHint {
  /** Password length; undefined means abra makes a passphrase. */
  length?: number;
  /** The alphabet the characters come from. */
  charset: string;
  /** False for `generate=false`: the operator inserts the value by hand. */
  generate: boolean;
}

export const ALPHABET_LOWER = "abcdefghijkmnopqrstuvwxyz";
export const ALPHABET_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
export const ALPHABET_NUMERIC = "23456789";
export const ALPHABET_DEFAULT = ALPHABET_LOWER + ALPHABET_UPPER + ALPHABET_NUMERIC;
export const ALPHABET_SPECIAL = "!@#$%^&*_-+=";

const CHARSETS: Record<string, string> = { default: ALPHABET_DEFAULT, special: ALPHABET_SPECIAL };
const LENGTH_MIN = 5;
const LENGTH_MAX = 1024;
const SECRET_VERSION = /^SECRET_(.+)_VERSION$/;

export const DEFAULT_SECRET_HINT: SecretHint = { charset: ALPHABET_DEFAULT, generate: true };

/**
 * The secret an env line declares, with its generation hint, or undefined when the key is not a
 * `SECRET_<NAME>_VERSION`. `where` (file:line) is named in errors.
 */
export function secretHintOf(
  key: string,
  comment: string | undefined,
  where: string,
): { name: string; hint: SecretHint } | undefined {
  const secret = SECRET_VERSION.exec(key);
  if (!secret?.[1]) return undefined;
  return { name: secret[1].toLowerCase(), hint: parseSecretHint(comment ?? "", where) };
}

/** Parses the modifiers of one comment; words that are not `key=value` (prose) are ignored. */
export function parseSecretHint(comment: string, where: string): SecretHint {
  const hint: SecretHint = { ...DEFAULT_SECRET_HINT };
  for (const word of comment.replace(/^#\s*/, "").split(/\s+/)) {
    const eq = word.indexOf("=");
    if (eq < 0) continue;
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (key === "length") hint.length = parseLength(value, where);
    else if (key === "charset") hint.charset = parseCharset(value, where);
    else if (key === "generate") hint.generate = parseGenerate(value, where);
  }
  return hint;
}

function parseLength(value: string, where: string): number {
  const length = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(length >= LENGTH_MIN && length <= LENGTH_MAX)) {
    throw recipeError(
      `${where}: length=${value} is not a secret length abra can generate (${LENGTH_MIN} to ${LENGTH_MAX})`,
      `write e.g. "# length=32"`,
    );
  }
  return length;
}

function parseCharset(value: string, where: string): string {
  const names = value.split(",").filter((name) => name !== "");
  const unknown = names.filter((name) => !(name in CHARSETS));
  if (names.length === 0 || unknown.length > 0) {
    throw recipeError(
      `${where}: charset=${value} names ${unknown.length ? `unknown set(s) ${unknown.join(", ")}` : "no set"}`,
      `abra knows "default" (letters and digits) and "special" (${ALPHABET_SPECIAL}), e.g. charset=default,special`,
    );
  }
  return [...new Set(names.map((name) => CHARSETS[name] as string).join(""))].join("");
}

function parseGenerate(value: string, where: string): boolean {
  if (value === "false") return false;
  if (value === "true") return true;
  throw recipeError(`${where}: generate=${value} must be true or false`);
}
