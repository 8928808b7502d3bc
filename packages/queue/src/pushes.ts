import type { Redis } from "ioredis";
import { commandsOf } from "./commands";
import type { Keys } from "./keys";
import { type QueueLayerOptions, withDefaults } from "./options";
import { assertConnected, redisStep } from "./redis";

/**
 * Whether a PR's current head is the one a comment's author saw:
 * - `seen`: the head is the last push recorded before the comment (and not pushed again since);
 * - `moved`: the head was pushed at or after the comment, or another push came between;
 * - `unknown`: no push of the head was ever recorded (lost webhook, record expired).
 */
export type HeadAtComment = "seen" | "moved" | "unknown";

export interface PushLogOptions extends QueueLayerOptions {
  /** How long a PR's push record is kept after its last push. Default 30 days. */
  pushTtlSec?: number;
  /** Most recent pushes kept per PR. Default 50. */
  maxPushesPerPull?: number;
}

/**
 * The pushes of each PR as the forge announced them (`pull_request` opened/synchronize/reopened),
 * with the time the bridge received each. Small and bounded per PR, with a TTL; only a verified
 * webhook writes here. Comparing a comment's time with these records tells whether the head moved
 * after the comment, so a push after a maintainer's `!testme` never runs under it.
 */
export class PushLog {
  private readonly redis: Redis;
  private readonly keys: Keys;
  private readonly timeoutMs: number;
  private readonly ttlSec: number;
  private readonly maxPerPull: number;

  constructor(options: PushLogOptions) {
    ({ redis: this.redis, keys: this.keys, timeoutMs: this.timeoutMs } = withDefaults(options));
    this.ttlSec = options.pushTtlSec ?? 30 * 24 * 3600;
    this.maxPerPull = options.maxPushesPerPull ?? 50;
  }

  /** Records that the PR's head became `sha` at `receivedAtMs`. Rejects with an infra error if Redis is down. */
  async record(forge: string, repo: string, pr: number, sha: string, receivedAtMs: number): Promise<void> {
    assertConnected(this.redis);
    await this.step(
      commandsOf(this.redis).recordPush(
        this.keys.pushes(forge, repoKey(repo), pr),
        String(receivedAtMs),
        sha.toLowerCase(),
        String(this.maxPerPull),
        String(this.ttlSec),
      ),
    );
  }

  /** See HeadAtComment. Strictly before: a push received in the same millisecond as the comment counts as after. */
  async headAt(
    forge: string,
    repo: string,
    pr: number,
    head: string,
    commentAtMs: number,
  ): Promise<HeadAtComment> {
    const key = this.keys.pushes(forge, repoKey(repo), pr);
    const sha = head.toLowerCase();
    const [score, before] = await this.step(
      Promise.all([
        this.redis.zscore(key, sha),
        this.redis.zrevrangebyscore(key, `(${commentAtMs}`, "-inf", "WITHSCORES", "LIMIT", 0, 2),
      ]),
    );
    if (score === null) return "unknown";
    if (Number(score) >= commentAtMs) return "moved";
    const [latest, latestScore, , secondScore] = before;
    // Two shas received in the same millisecond: which one the author saw is not known.
    const tied = secondScore !== undefined && secondScore === latestScore;
    return latest === sha && !tied ? "seen" : "moved";
  }

  private step<T>(work: Promise<T>): Promise<T> {
    return redisStep(work, this.timeoutMs);
  }
}

/** GitHub and Gitea treat owner/name case-insensitively; so do the records. */
const repoKey = (repo: string) => repo.toLowerCase();
