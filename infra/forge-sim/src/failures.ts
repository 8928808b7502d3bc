import type { Request, Response } from "express";

/** A failure the simulator injects, like a real forge having a bad minute. */
export interface FailureSpec {
  /** 502 (bad gateway), 403 with x-ratelimit-remaining 0 (primary limit), 429 (secondary limit). */
  status: 502 | 500 | 503 | 403 | 429;
  /** Fail this many matching calls (default 1), or every matching call for `forMs`. */
  count?: number;
  forMs?: number;
  /** Only calls whose "METHOD /path" contains this (or matches the RegExp). */
  match?: string | RegExp;
  /** Seconds a client is told to wait (Retry-After, or the rate-limit reset). Default 1. */
  retryAfterSec?: number;
}

interface ActiveFailure extends FailureSpec {
  remaining: number;
  until: number;
}

export class FailureInjector {
  private readonly active: ActiveFailure[] = [];

  add(spec: FailureSpec): void {
    const until = spec.forMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + spec.forMs;
    const remaining = spec.forMs === undefined ? (spec.count ?? 1) : Number.POSITIVE_INFINITY;
    this.active.push({ ...spec, remaining, until });
  }

  clear(): void {
    this.active.length = 0;
  }

  /** Answers the request with an injected failure if one applies; returns true when it did. */
  intercept(req: Request, res: Response): boolean {
    const signature = `${req.method} ${req.path}`;
    const failure = this.take(signature);
    if (!failure) return false;
    const wait = failure.retryAfterSec ?? 1;
    if (failure.status === 403) {
      res.set("x-ratelimit-limit", "5000");
      res.set("x-ratelimit-remaining", "0");
      res.set("x-ratelimit-reset", String(Math.floor(Date.now() / 1000) + wait));
      res.status(403).json({ message: "API rate limit exceeded (simulated)" });
    } else if (failure.status === 429) {
      res.set("retry-after", String(wait));
      res.status(429).json({ message: "You have exceeded a secondary rate limit (simulated)" });
    } else {
      res.status(failure.status).json({ message: `simulated ${failure.status}` });
    }
    return true;
  }

  private take(signature: string): ActiveFailure | undefined {
    const now = Date.now();
    for (let i = this.active.length - 1; i >= 0; i--) {
      const failure = this.active[i];
      if (!failure) continue;
      if (failure.remaining <= 0 || failure.until < now) this.active.splice(i, 1);
    }
    const failure = this.active.find((f) => matches(f.match, signature));
    if (failure) failure.remaining -= 1;
    return failure;
  }
}

function matches(match: FailureSpec["match"], signature: string): boolean {
  if (match === undefined) return true;
  return typeof match === "string" ? signature.includes(match) : match.test(signature);
}
