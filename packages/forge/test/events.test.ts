import { describe, expect, it } from "@jest/globals";
import { giteaCommentPayload, githubCommentPayload, githubExample } from "@taster/forge-sim";
import { normalizeGiteaComment, normalizeGithubComment } from "../src/index";

describe("webhook normalisation", () => {
  it("turns GitHub's example issue_comment on a PR into a CommentEvent", () => {
    const payload = githubCommentPayload({
      repo: "coop-cloud/notes",
      pr: 2,
      body: "!testme",
      user: "alice",
      commentId: 9,
    });
    expect(normalizeGithubComment(payload)).toEqual({
      forge: "github",
      action: "created",
      repo: "coop-cloud/notes",
      pr: 2,
      isPullRequest: true,
      issueState: "open",
      commentId: 9,
      body: "!testme",
      author: "alice",
      authorIsBot: false,
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

  it("rejects payloads that are not comments with a clear usage error", () => {
    expect(() => normalizeGithubComment({ zen: "Keep it logically awesome." })).toThrow(
      /issue_comment payload/,
    );
    expect(() => normalizeGiteaComment(null)).toThrow(/issue_comment payload/);
  });
});
