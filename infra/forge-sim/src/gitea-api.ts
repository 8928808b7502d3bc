import { type Request, type Response, Router } from "express";
import { idOf } from "./github-api";
import { paginate } from "./paginate";
import type { ForgeSimState, SimComment, SimPull } from "./state";

/** The Gitea/Forgejo REST calls Taster makes (mounted under /api/v1). */
export function giteaRouter(state: ForgeSimState): Router {
  const router = Router();
  const user = (login: string) => ({ id: idOf(login), login, username: login });
  const comment = (c: SimComment) => ({
    id: c.id,
    body: c.body,
    user: user(c.user),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    html_url: `https://gitea.test/${c.repo}/pulls/${c.issueNumber}#issuecomment-${c.id}`,
    issue_url: "",
    pull_request_url: `https://gitea.test/${c.repo}/pulls/${c.issueNumber}`,
  });
  const pull = (repo: string, p: SimPull) => ({
    number: p.number,
    state: p.state,
    title: p.title,
    merged: false,
    html_url: `https://gitea.test/${repo}/pulls/${p.number}`,
    head: { sha: p.headSha, ref: p.headRef, repo: { full_name: repo } },
    base: { ref: "main", repo: { full_name: repo } },
  });
  const repoOf = (req: Request) => `${req.params.owner}/${req.params.repo}`;
  const notFound = (res: Response) => res.status(404).json({ message: "The target couldn't be found." });

  router.get("/user", (_req, res) => {
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
    const found = state.comments.filter((c) => c.repo === repoOf(req) && Date.parse(c.updatedAt) >= since);
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
    res
      .status(201)
      .json(comment(state.addComment(repoOf(req), Number(req.params.number), state.botLogin, body)));
  });

  router.patch("/repos/:owner/:repo/issues/comments/:id", (req, res) => {
    const c = state.findComment(repoOf(req), Number(req.params.id));
    if (!c) return notFound(res);
    if (typeof req.body?.body !== "string") return res.status(422).json({ message: "body is required" });
    c.body = req.body.body;
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
    res.status(201).json({ content, user: user(state.botLogin) });
  });

  router.post("/repos/:owner/:repo/statuses/:sha", (req, res) => {
    if (!state.repos.has(repoOf(req))) return notFound(res);
    const { state: statusState, context = "default", description, target_url } = req.body ?? {};
    if (!["pending", "success", "error", "failure", "warning"].includes(statusState)) {
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
    res.status(201).json({ status: statusState, context, description, target_url });
  });

  router.get("/orgs/:org/members/:username", (req, res) => {
    if (state.orgMembers.get(String(req.params.org))?.has(String(req.params.username))) {
      return res.status(204).end();
    }
    notFound(res);
  });

  router.get("/repos/:owner/:repo/collaborators/:username/permission", (req, res) => {
    if (!state.repos.has(repoOf(req))) return notFound(res);
    const permission = state.permissionOf(repoOf(req), String(req.params.username));
    const gitea = permission === "maintain" ? "write" : permission === "triage" ? "read" : permission;
    res.json({ permission: gitea, role_name: gitea, user: user(String(req.params.username)) });
  });

  return router;
}
