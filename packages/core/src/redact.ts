/** The mask that replaces every secret value in anything Taster writes. */
export const REDACTED = "[redacted]";

/**
 * Holds a run's secret values and scrubs them from text before it leaves the process.
 * Values shorter than 4 chars are not tracked: masking them would shred ordinary output.
 */
export class Redactor {
  private readonly secrets = new Set<string>();
  private leaked = false;

  add(value: string | undefined): void {
    if (value && value.length >= 4) this.secrets.add(value);
  }

  addAll(values: Iterable<string | undefined>): void {
    for (const value of values) this.add(value);
  }

  /** True once any redact() call has found a secret value in the text it was given. */
  get foundLeak(): boolean {
    return this.leaked;
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.sortedSecrets()) {
      if (out.includes(secret)) {
        this.leaked = true;
        out = out.split(secret).join(REDACTED);
      }
    }
    return out;
  }

  /** Whether text holds any secret value, without flagging the run. */
  contains(text: string): boolean {
    for (const secret of this.secrets) if (text.includes(secret)) return true;
    return false;
  }

  // Longest first, so a secret that contains another is masked whole.
  private sortedSecrets(): string[] {
    return [...this.secrets].sort((a, b) => b.length - a.length);
  }
}

/**
 * The credentials a service URL carries (`redis://:password@host`, `https://user:token@host`),
 * raw and percent-decoded, so a redactor can mask them; none for a URL without any.
 */
export function urlCredentials(url: string | undefined): string[] {
  const userinfo = url ? /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(url)?.[1] : undefined;
  if (!userinfo) return [];
  // A lone user part is a token (`https://<token>@github.com`); a user beside a password is a name.
  const colon = userinfo.indexOf(":");
  const secret = colon < 0 ? userinfo : userinfo.slice(colon + 1);
  let decoded = secret;
  try {
    decoded = decodeURIComponent(secret);
  } catch {
    // not percent-encoded: the raw form is enough
  }
  return [...new Set([secret, decoded])].filter(Boolean);
}
