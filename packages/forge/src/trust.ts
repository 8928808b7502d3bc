import { readFile } from "node:fs/promises";
import { usageError } from "@taster/core";
import { parse } from "yaml";
import { z } from "zod";
import type { TrustDecision } from "./port";

/**
 * Who may trigger runs. Org members and collaborators with at least `minPermission` are trusted;
 * anyone in allowlist/triggerers.yml is too (for that repo, or for all when no repos are listed).
 */
export interface TrustPolicy {
  orgMembers: boolean;
  minPermission: "read" | "triage" | "write" | "maintain" | "admin";
  triggerers: Triggerer[];
  cacheTtlMs: number;
}

export interface Triggerer {
  login: string;
  repos?: string[];
}

export const DEFAULT_TRUST: TrustPolicy = {
  orgMembers: true,
  minPermission: "write",
  triggerers: [],
  cacheTtlMs: 60_000,
};

const login = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "not a forge login");

/** allowlist/triggerers.yml; strict, so a typo'd key is an error rather than silently ignored. */
export const triggerersFileSchema = z.strictObject({
  triggerers: z
    .array(
      z.union([
        login,
        z.strictObject({
          login,
          repos: z.array(z.string().regex(/^[\w.-]+\/[\w.-]+$/, "not owner/name")).optional(),
        }),
      ]),
    )
    .default([]),
});

/** Reads allowlist/triggerers.yml; a missing file means nobody extra. */
export async function loadTriggerers(path: string): Promise<Triggerer[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const parsed = triggerersFileSchema.safeParse(parse(text) ?? {});
  if (!parsed.success) {
    throw usageError(
      `${path} is not a valid triggerers list: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      "expected `triggerers:` followed by logins, or `- login: NAME` with optional `repos: [owner/name]`",
    );
  }
  return parsed.data.triggerers.map((t) => (typeof t === "string" ? { login: t } : t));
}

const RANK = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 } as const;

export function permissionAtLeast(permission: string, minimum: TrustPolicy["minPermission"]): boolean {
  const rank = RANK[permission as keyof typeof RANK] ?? (permission === "owner" ? RANK.admin : 0);
  return rank >= RANK[minimum];
}

/** The forge calls trust needs; each adapter supplies them. */
export interface TrustSource {
  isOrgMember(org: string, user: string): Promise<boolean>;
  /** The user's permission on the repo: none/read/triage/write/maintain/admin (or the forge's words). */
  permission(repo: string, user: string): Promise<string>;
}

/** Decides trust and caches the answer briefly, so bursts of comments cost one lookup. */
export class TrustChecker {
  private readonly cache = new Map<string, { decision: Promise<TrustDecision>; expires: number }>();

  constructor(
    private readonly source: TrustSource,
    private readonly policy: TrustPolicy = DEFAULT_TRUST,
  ) {}

  async isTrusted(user: string, repo: string): Promise<TrustDecision> {
    const key = `${repo}\n${user.toLowerCase()}`;
    const cached = this.cache.get(key);
    if (cached && cached.expires > Date.now()) return cached.decision;
    // Cache the promise: a burst of comments from one user shares a single lookup.
    const decision = this.decide(user, repo);
    this.cache.set(key, { decision, expires: Date.now() + this.policy.cacheTtlMs });
    decision.catch(() => this.cache.delete(key));
    return decision;
  }

  private async decide(user: string, repo: string): Promise<TrustDecision> {
    const listed = this.policy.triggerers.find(
      (t) => t.login.toLowerCase() === user.toLowerCase() && (!t.repos || t.repos.includes(repo)),
    );
    if (listed) return { trusted: true, reason: "listed in allowlist/triggerers.yml" };
    const org = repo.split("/")[0] ?? "";
    if (this.policy.orgMembers && (await this.source.isOrgMember(org, user))) {
      return { trusted: true, reason: `member of ${org}` };
    }
    const permission = await this.source.permission(repo, user);
    if (permissionAtLeast(permission, this.policy.minPermission)) {
      return { trusted: true, reason: `${permission} permission on ${repo}` };
    }
    return {
      trusted: false,
      reason: `not a member of ${org}, ${permission} permission on ${repo}, not a listed triggerer`,
    };
  }
}
