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
