import { describe, expect, it } from "@jest/globals";
import {
  giteaCommentPayload,
  giteaPullRequestPayload,
  githubCommentPayload,
  githubExample,
  githubPullRequestPayload,
} from "@taster/forge-sim";
import { normalizeGiteaComment, normalizeGithubComment, normalizePullRequest } from "../src/index";

describe("webhook normalisation", () => {
  it("turns GitHub's example issue_comment on a PR into a CommentEvent", () => {
    const payload = githubCommentPayload({
      repo: "coop-cloud/notes",
      pr: 2,
      body: "!testme",
      user: "alice",
      commentId: 9,
      createdAt: "2026-01-02T03:04:05Z",
    });
    expect(normalizeGithubComment(payload)).toEqual({
      forge: "github",
      action: "created",
      repo: "coop-cloud/notes",
      pr: 2,
      isPullRequest: true,
      issueState: "open",
      commentId: 9,
      createdAt: "2026-01-02T03:04:05Z",
      body: "!testme",
      author: "alice",
      authorIsBot: false,
      // (the example payload's own repository URL; the worker uses it only on its configured host)
      cloneUrl: expect.any(String),
    });
  });

  it("tells plain issues and bots apart", () => {
    const plain = normalizeGithubComment(githubExample("issue_comment", "created"));
    expect(plain.isPullRequest).toBe(false);
    const bot = githubCommentPayload({
      repo: "a/b",
      pr: 1,
      body: "!testme",
      user: "taster[bot]",
      commentId: 1,
    });
    expect(normalizeGithubComment(bot).authorIsBot).toBe(true);
  });

  it("turns a Gitea issue_comment on a PR into the same CommentEvent", () => {
    const payload = giteaCommentPayload({
      repo: "coop-cloud/notes",
      pr: 2,
      body: "!testme",
      user: "alice",
      commentId: 9,
    });
    expect(normalizeGiteaComment(payload)).toEqual(
      expect.objectContaining({ forge: "gitea", pr: 2, isPullRequest: true, author: "alice" }),
    );
  });

  it("keeps the payload's clone URL for the worker to check, and drops one that is not a string", () => {
    const payload = giteaCommentPayload({
      repo: "coop-cloud/notes",
      pr: 2,
      body: "!testme",
      user: "a",
      commentId: 9,
    });
    expect(normalizeGiteaComment(payload).cloneUrl).toBeUndefined();
    const repository = payload.repository as Record<string, unknown>;
    repository.clone_url = "https://git.coopcloud.tech/coop-cloud/notes.git";
    expect(normalizeGiteaComment(payload).cloneUrl).toBe("https://git.coopcloud.tech/coop-cloud/notes.git");
    repository.clone_url = { evil: true };
    expect(normalizeGiteaComment(payload).cloneUrl).toBeUndefined();
  });

  it("rejects payloads that are not comments with a clear usage error", () => {
    expect(() => normalizeGithubComment({ zen: "Keep it logically awesome." })).toThrow(
      /issue_comment payload/,
    );
    expect(() => normalizeGiteaComment(null)).toThrow(/issue_comment payload/);
  });

  it("refuses a comment without a creation time: its age and the head it saw could not be judged", () => {
    const payload = githubCommentPayload({
      repo: "a/b",
      pr: 1,
      body: "!testme",
      user: "alice",
      commentId: 1,
    });
    delete (payload.comment as Record<string, unknown>).created_at;
    expect(() => normalizeGithubComment(payload)).toThrow(/comment\.created_at/);
  });

  it("reads the head a pull_request event announces, from GitHub's example and Gitea's payload", () => {
    const sha = "c".repeat(40);
    const at = "2026-01-02T03:04:05Z";
    const input = { repo: "coop-cloud/notes", pr: 4, headSha: sha, updatedAt: at } as const;
    expect(
      normalizePullRequest("github", githubPullRequestPayload({ ...input, action: "synchronize" })),
    ).toEqual({
      forge: "github",
      action: "synchronize",
      repo: "coop-cloud/notes",
      pr: 4,
      headSha: sha,
      updatedAt: at,
    });
    expect(
      normalizePullRequest("gitea", giteaPullRequestPayload({ ...input, action: "synchronize" })),
    ).toEqual({
      forge: "gitea",
      action: "synchronized",
      repo: "coop-cloud/notes",
      pr: 4,
      headSha: sha,
      updatedAt: at,
    });
    // GitHub's own example, untouched.
    expect(normalizePullRequest("github", githubExample("pull_request", "opened")).headSha).toMatch(
      /^[0-9a-f]{40}$/,
    );
    expect(() => normalizePullRequest("gitea", { action: "synchronized", number: 1 })).toThrow(
      /pull_request payload/,
    );
  });
});
