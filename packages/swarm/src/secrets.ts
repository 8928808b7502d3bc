import { randomBytes } from "node:crypto";
import type { Redactor } from "@taster/core";
import type { Host } from "./host";
import { NAMESPACE_LABEL, STACK_LABEL } from "./labels";
import type { Plan } from "./plan";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random value of `length` characters from [A-Za-z0-9] (what abra's generator produces). */
export function randomSecret(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = "";
  // Rejection sampling keeps every character equally likely.
  for (const byte of bytes) {
    if (byte < 248) out += ALPHABET[byte % ALPHABET.length];
    if (out.length === length) return out;
  }
  return out + randomSecret(length - out.length);
}

/**
 * Creates the plan's missing external secrets with random values; returns the names it created.
 * Values only ever go to the redactor. The stack labels let teardown find secrets that
 * `docker stack deploy` did not create.
 */
export async function ensureSecrets(host: Host, plan: Plan, redactor: Redactor): Promise<string[]> {
  const existing = new Set((await host.docker.listSecrets()).map((secret) => secret.Spec?.Name));
  const created: string[] = [];
  for (const secret of plan.secrets) {
    if (!secret.external || existing.has(secret.fullName)) continue;
    const value = randomSecret(secret.length);
    redactor.add(value);
    await host.docker.createSecret({
      Name: secret.fullName,
      Data: Buffer.from(value).toString("base64"),
      Labels: { [NAMESPACE_LABEL]: plan.stack, [STACK_LABEL]: plan.stack },
    });
    created.push(secret.fullName);
  }
  return created;
}
