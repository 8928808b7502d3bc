/** The simulated forge's world: repos, pull requests, users, comments and what Taster wrote. */

export type Permission = "admin" | "maintain" | "write" | "triage" | "read" | "none";

export interface SimPull {
  number: number;
  state: "open" | "closed";
  headSha: string;
  headRef: string;
  title: string;
}

export interface SimRepo {
  fullName: string;
  pulls: Map<number, SimPull>;
  permissions: Map<string, Permission>;
}

export interface SimComment {
  id: number;
  repo: string;
  issueNumber: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
}

export interface SimReaction {
  repo: string;
  commentId: number;
  content: string;
  user: string;
}

export interface SimStatus {
  repo: string;
  sha: string;
  state: string;
  context: string;
  description?: string;
  targetUrl?: string;
  /** When the forge received it (ISO): tests order what reached the forge against other events. */
  at: string;
}

/** A check run an App created (the Checks API). */
export interface SimCheckRun {
  id: number;
  repo: string;
  headSha: string;
  name: string;
  externalId?: string;
  status: string;
  conclusion?: string;
  detailsUrl?: string;
  output?: { title?: string; summary?: string; text?: string };
  /** How many times it was PATCHed (updated in place). */
  updates: number;
}

export interface SimAppToken {
  token: string;
  installationId: number;
  expiresAt: string;
}

export class ForgeSimState {
  readonly repos = new Map<string, SimRepo>();
  readonly orgMembers = new Map<string, Set<string>>();
  readonly comments: SimComment[] = [];
  // Indexes so lookups stay cheap when a benchmark piles up thousands of comments.
  private readonly byIssue = new Map<string, SimComment[]>();
  private readonly byId = new Map<number, SimComment>();
  readonly reactions: SimReaction[] = [];
  readonly statuses: SimStatus[] = [];
  /** Who the API token belongs to: authored comments, reactions and statuses are theirs. */
  botLogin = "taster-bot";
  /** What GitHub lists in X-OAuth-Scopes for the token (a classic token's scopes); null: none listed. */
  githubTokenScopes: string | null = "repo, read:org";
  private nextId = 1_000_000;
  /** GitHub App installations: account (org or user) → installation id. */
  readonly installations = new Map<string, number>();
  /** Installation tokens issued, oldest first; and every use of one (its token), in order. */
  readonly appTokens: SimAppToken[] = [];
  readonly appTokenUses: string[] = [];
  /** How long an installation token lives (GitHub: one hour). */
  appTokenTtlMs = 3_600_000;
  readonly checkRuns: SimCheckRun[] = [];

  installApp(account: string, installationId: number): void {
    this.installations.set(account, installationId);
  }

  addCheckRun(run: Omit<SimCheckRun, "id" | "updates">): SimCheckRun {
    const full = { ...run, id: this.nextId++, updates: 0 };
    this.checkRuns.push(full);
    return full;
  }

  addRepo(fullName: string): SimRepo {
    const existing = this.repos.get(fullName);
    if (existing) return existing;
    const repo: SimRepo = { fullName, pulls: new Map(), permissions: new Map() };
    this.repos.set(fullName, repo);
    return repo;
  }

  addPull(fullName: string, pull: Partial<SimPull> & { number: number; headSha: string }): SimPull {
    const full: SimPull = {
      state: "open",
      headRef: `pr-${pull.number}`,
      title: `PR ${pull.number}`,
      ...pull,
    };
    this.addRepo(fullName).pulls.set(full.number, full);
    return full;
  }

  setPermission(fullName: string, login: string, permission: Permission): void {
    this.addRepo(fullName).permissions.set(login, permission);
  }

  addOrgMember(org: string, login: string): void {
    const members = this.orgMembers.get(org) ?? new Set<string>();
    members.add(login);
    this.orgMembers.set(org, members);
  }

  /** A comment as if a human wrote it on the forge (e.g. one whose webhook got lost). */
  addComment(fullName: string, issueNumber: number, user: string, body: string): SimComment {
    const now = new Date().toISOString();
    const comment: SimComment = {
      id: this.nextId++,
      repo: fullName,
      issueNumber,
      body,
      user,
      createdAt: now,
      updatedAt: now,
    };
    this.comments.push(comment);
    this.byId.set(comment.id, comment);
    const key = `${fullName}#${issueNumber}`;
    this.byIssue.set(key, [...(this.byIssue.get(key) ?? []), comment]);
    return comment;
  }

  commentsOn(fullName: string, issueNumber: number): SimComment[] {
    return this.byIssue.get(`${fullName}#${issueNumber}`) ?? [];
  }

  findComment(fullName: string, id: number): SimComment | undefined {
    const comment = this.byId.get(id);
    return comment?.repo === fullName ? comment : undefined;
  }

  permissionOf(fullName: string, login: string): Permission {
    return this.repos.get(fullName)?.permissions.get(login) ?? "none";
  }
}
