/**
 * How many live-log streams the bridge holds open: in all, and per client address. A stream costs
 * an open socket for as long as a run goes, so without a bound anyone could hold thousands.
 */
export interface LiveLogLimits {
  /** Streams open at once, all clients together. */
  maxClients: number;
  /** Streams open at once from one address (a person with several tabs; an office behind one NAT). */
  maxPerAddress: number;
}

export type Admission = { ok: true; release(): void } | { ok: false; status: 429 | 503; reason: string };

export class LiveLogAdmission {
  private open = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: LiveLogLimits) {}

  /** Streams open right now. */
  get clients(): number {
    return this.open;
  }

  /** Takes a place for one stream from `address`, or says why not; release the place when it closes. */
  admit(address: string): Admission {
    const mine = this.byAddress.get(address) ?? 0;
    if (mine >= this.limits.maxPerAddress) {
      return {
        ok: false,
        status: 429,
        reason: `too many live logs open from your address (${mine}, at most ${this.limits.maxPerAddress}); close some and reload`,
      };
    }
    if (this.open >= this.limits.maxClients) {
      return {
        ok: false,
        status: 503,
        reason: `this server is already streaming its maximum of ${this.limits.maxClients} live logs; reload in a moment, or use the full log link`,
      };
    }
    this.open += 1;
    this.byAddress.set(address, mine + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.open -= 1;
        const left = (this.byAddress.get(address) ?? 1) - 1;
        if (left > 0) this.byAddress.set(address, left);
        else this.byAddress.delete(address);
      },
    };
  }
}
