import { randomBytes } from "node:crypto";
import type { Redactor } from "@taster/core";
import { ALPHABET_DEFAULT, ALPHABET_LOWER, type SecretHint } from "@taster/recipe";
import type { Host } from "./host";
import { NAMESPACE_LABEL, STACK_LABEL } from "./labels";
import type { Plan } from "./plan";

/** A random value of `length` characters from `alphabet`, every character equally likely. */
export function randomSecret(length: number, alphabet: string = ALPHABET_DEFAULT): string {
  const chars = [...new Set(alphabet)];
  const limit = 256 - (256 % chars.length);
  let out = "";
  while (out.length < length) {
    // Rejection sampling: bytes past the last whole multiple of the alphabet would bias it.
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit) out += chars[byte % chars.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/**
 * abra without `length=` makes a passphrase: words joined by `-` (passgen's default word count, 6).
 * Taster's words are random lowercase ones of 3 to 9 letters: the same characters an entrypoint
 * must cope with, without shipping a word list.
 */
export function randomPassphrase(words = 6): string {
  return Array.from({ length: words }, () =>
    randomSecret(3 + ((randomBytes(1)[0] as number) % 7), ALPHABET_LOWER),
  ).join("-");
}

/** A value the way abra's `secret generate` would make it for this hint. */
export function generateSecretValue(hint: SecretHint): string {
  return hint.length ? randomSecret(hint.length, hint.charset) : randomPassphrase();
}

/** Where a secret's value came from (never the value): what the manifest and report show. */
export interface SecretSource {
  name: string;
  fullName: string;
  source:
    | "generated"
    | "taster.yml"
    | "known-good"
    | "generated (generate=false, no test value in taster.yml)";
}

export interface EnsureSecretsOptions {
  /** Only these secrets (compose names) may be created; the rest must exist already. Default: all. */
  only?: string[];
  /** Test values for `generate=false` secrets, from `taster.yml` `secrets:` (compose name → value). */
  values?: Record<string, string>;
  /** Values to reuse, by `<name>_<version>` (a warm known-good's: its data was written with them). */
  kept?: Record<string, string>;
  /** Told each value made, by `<name>_<version>` (kept with a warm known-good; never logged). */
  onCreate?: (key: string, value: string) => void;
}

/** A secret's name without its stack: `<name>_<version>` for `<stack>_<name>_<version>`. */
export const secretKey = (stack: string, fullName: string): string =>
  fullName.startsWith(`${stack}_`) ? fullName.slice(stack.length + 1) : fullName;

/**
 * Creates the plan's missing external secrets the way `abra app secret generate --all` does, plus
 * the `generate=false` ones an operator would insert (their test value from taster.yml, else a
 * generated one). Values only ever go to the redactor. The stack labels let teardown find secrets
 * that `docker stack deploy` did not create. Returns where each created secret came from.
 */
export async function ensureSecrets(
  host: Host,
  plan: Plan,
  redactor: Redactor,
  opts: EnsureSecretsOptions = {},
): Promise<SecretSource[]> {
  const existing = new Set((await host.docker.listSecrets()).map((secret) => secret.Spec?.Name));
  const created: SecretSource[] = [];
  for (const secret of plan.secrets) {
    if (!secret.external || existing.has(secret.fullName)) continue;
    if (opts.only && !opts.only.includes(secret.name)) continue;
    const key = secretKey(plan.stack, secret.fullName);
    const kept = opts.kept?.[key];
    const given = secret.hint.generate ? undefined : opts.values?.[secret.name];
    const value = kept ?? given ?? generateSecretValue(secret.hint);
    redactor.add(value);
    opts.onCreate?.(key, value);
    await host.docker.createSecret({
      Name: secret.fullName,
      Data: Buffer.from(value).toString("base64"),
      Labels: { [NAMESPACE_LABEL]: plan.stack, [STACK_LABEL]: plan.stack },
    });
    const source: SecretSource["source"] =
      kept !== undefined
        ? "known-good"
        : secret.hint.generate
          ? "generated"
          : given !== undefined
            ? "taster.yml"
            : "generated (generate=false, no test value in taster.yml)";
    created.push({ name: secret.name, fullName: secret.fullName, source });
  }
  return created;
}

/** The plan's external secrets that do not exist on the host (what abra calls "not generated"). */
export async function missingSecrets(host: Host, plan: Plan): Promise<Plan["secrets"]> {
  const existing = new Set((await host.docker.listSecrets()).map((secret) => secret.Spec?.Name));
  return plan.secrets.filter((secret) => secret.external && !existing.has(secret.fullName));
}
