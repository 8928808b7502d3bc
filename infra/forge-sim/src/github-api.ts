import { type Request, type Response, Router } from "express";
import { paginate } from "./paginate";
import type { ForgeSimState, SimComment, SimPull } from "./state";

/** The GitHub REST calls Taster makes, answered from the simulator's state. */
export function githubRouter(state: ForgeSimState, baseUrl: () => string): Router {
  const router = Router();
  const user = (login: string) => ({
    login,
    id: idOf(login),
    type: login.endsWith("[bot]") || login === state.botLogin ? "Bot" : "User",
  });
  const comment = (c: SimComment) => ({
    id: c.id,
    body: c.body,
    user: user(c.user),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    issue_url: `${baseUrl()}/repos/${c.repo}/issues/${c.issueNumber}`,
    html_url: `https://github.test/${c.repo}/pull/${c.issueNumber}#issuecomment-${c.id}`,
  });
  const pull = (repo: string, p: SimPull) => ({
    number: p.number,
    state: p.state,
    title: p.title,
    html_url: `https://github.test/${repo}/pull/${p.number}`,
    head: {
      sha: p.headSha,
      ref: p.headRef,
      repo: { full_name: repo, clone_url: `https://github.test/${repo}.git` },
    },
    base: { ref: "main", repo: { full_name: repo } },
  });
  const repoOf = (req: Request) => `${req.params.owner}/${req.params.repo}`;
  const notFound = (res: Response) => res.status(404).json({ message: "Not Found" });

  // The token's own user, and (for a classic token) its scopes: what `taster doctor` checks.
  router.get("/user", (_req, res) => {
    if (state.githubTokenScopes !== null) res.set("x-oauth-scopes", state.githubTokenScopes);
    res.json(user(state.botLogin));
  });

  router.get("/repos/:owner/:repo/pulls/:number", (req, res) => {
    const p = state.repos.get(repoOf(req))?.pulls.get(Number(req.params.number));
    if (!p) return notFound(res);
    res.json(pull(repoOf(req), p));
  });

  router.get("/repos/:owner/:repo/pulls", (req, res) => {
    const repo = state.repos.get(repoOf(req));
    if (!repo) return notFound(res);
    const wanted = String(req.query.state ?? "open");
    const pulls = [...repo.pulls.values()].filter((p) => wanted === "all" || p.state === wanted);
    paginate(
      req,
      res,
      pulls.map((p) => pull(repo.fullName, p)),
    );
  });

  router.get("/repos/:owner/:repo/issues/comments", (req, res) => {
    if (!state.repos.has(repoOf(req))) return notFound(res);
    const since = req.query.since ? Date.parse(String(req.query.since)) : 0;
    const found = state.comments
      .filter((c) => c.repo === repoOf(req) && Date.parse(c.updatedAt) >= since)
      .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt) || a.id - b.id);
    if (req.query.direction === "desc") found.reverse();
    paginate(req, res, found.map(comment));
  });

  router.get("/repos/:owner/:repo/issues/:number/comments", (req, res) => {
    if (!state.repos.has(repoOf(req))) return notFound(res);
    paginate(req, res, state.commentsOn(repoOf(req), Number(req.params.number)).map(comment));
  });

  router.post("/repos/:owner/:repo/issues/:number/comments", (req, res) => {
    if (!state.repos.has(repoOf(req))) return notFound(res);
    const body = req.body?.body;
    if (typeof body !== "string") return res.status(422).json({ message: "body is required" });
    if (body.length > 65_536) return res.status(422).json({ message: "body is too long (maximum is 65536)" });
    res
      .status(201)
      .json(comment(state.addComment(repoOf(req), Number(req.params.number), state.botLogin, body)));
  });

  router.patch("/repos/:owner/:repo/issues/comments/:id", (req, res) => {
    const c = state.findComment(repoOf(req), Number(req.params.id));
    if (!c) return notFound(res);
    const body = req.body?.body;
    if (typeof body !== "string") return res.status(422).json({ message: "body is required" });
    if (body.length > 65_536) return res.status(422).json({ message: "body is too long (maximum is 65536)" });
    c.body = body;
    c.updatedAt = new Date().toISOString();
    res.json(comment(c));
  });

  router.post("/repos/:owner/:repo/issues/comments/:id/reactions", (req, res) => {
    if (!state.findComment(repoOf(req), Number(req.params.id))) return notFound(res);
    const content = String(req.body?.content ?? "");
    state.reactions.push({
      repo: repoOf(req),
      commentId: Number(req.params.id),
      content,
      user: state.botLogin,
    });
    res.status(201).json({ id: state.reactions.length, content, user: user(state.botLogin) });
  });

  router.post("/repos/:owner/:repo/statuses/:sha", (req, res) => {
    if (!state.repos.has(repoOf(req))) return notFound(res);
    const { state: statusState, context = "default", description, target_url } = req.body ?? {};
    if (!["pending", "success", "failure", "error"].includes(statusState)) {
      return res.status(422).json({ message: "state is invalid" });
    }
    state.statuses.push({
      repo: repoOf(req),
      sha: String(req.params.sha),
      state: statusState,
      context,
      description,
      targetUrl: target_url,
      at: new Date().toISOString(),
    });
    res.status(201).json({ state: statusState, context, description, target_url });
  });

  router.get("/orgs/:org/members/:username", (req, res) => {
    const member = state.orgMembers.get(String(req.params.org))?.has(String(req.params.username));
    if (member) return res.status(204).end();
    notFound(res);
  });

  router.get("/repos/:owner/:repo/collaborators/:username/permission", (req, res) => {
    if (!state.repos.has(repoOf(req))) return notFound(res);
    const permission = state.permissionOf(repoOf(req), String(req.params.username));
    // GitHub folds maintain/triage into the legacy write/read levels and names the real one in role_name.
    const legacy = permission === "maintain" ? "write" : permission === "triage" ? "read" : permission;
    res.json({ permission: legacy, role_name: permission, user: user(String(req.params.username)) });
  });

  return router;
}

/** Stable fake numeric ids for logins. */
export function idOf(login: string): number {
  let hash = 7;
  for (const ch of login) hash = (hash * 31 + ch.charCodeAt(0)) % 1_000_000_007;
  return hash;
}
