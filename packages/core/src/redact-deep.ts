import type { Redactor } from "./redact";

/**
 * A copy of `value` with every string in it redacted (object keys too), for data about to be
 * escaped into HTML or markdown: escaping first would change how a secret reads (`&` → `&amp;`,
 * `_` → `\_`), and the redactor would no longer find it.
 */
export function redactDeep<T>(value: T, redactor: Redactor): T {
  return walk(value, redactor) as T;
}

function walk(value: unknown, redactor: Redactor): unknown {
  if (typeof value === "string") return redactor.redact(value);
  if (Array.isArray(value)) return value.map((item) => walk(item, redactor));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [redactor.redact(key), walk(item, redactor)]),
    );
  }
  return value;
}
