/**
 * GitHub as an App, simulated: the App proves itself with an RS256 JWT (checked against its public
 * key), looks up the installation on a repository or organisation, and trades the JWT for a
 * short-lived installation token; the Checks API only accepts such a token. Check runs land in
 * `state.checkRuns`, every token issued in `state.appTokens`.
 */
import { createPublicKey, randomBytes, verify } from "node:crypto";
import { type Request, type Response, Router } from "express";
import type { ForgeSimState, SimCheckRun } from "./state";

export interface SimAppOptions {
  /** The App's id: the JWT's `iss`. */
  id: number;
  /** The App's public key (PEM), for the JWT's RS256 signature. */
  publicKey: string;
}

/** Why an App JWT is refused, or undefined when it is good. */
export function jwtProblem(header: string | undefined, app: SimAppOptions): string | undefined {
  const jwt = /^bearer (.+)$/i.exec(header ?? "")?.[1];
  if (!jwt) return "A JSON web token could not be decoded";
  const [head = "", body = "", signature = ""] = jwt.split(".");
  let claims: { iss?: unknown; exp?: number; iat?: number };
  try {
    const alg = JSON.parse(Buffer.from(head, "base64url").toString()).alg;
    if (alg !== "RS256") return `'alg' must be RS256, not ${alg}`;
    claims = JSON.parse(Buffer.from(body, "base64url").toString());
  } catch {
    return "A JSON web token could not be decoded";
  }
  const good = verify(
    "RSA-SHA256",
    Buffer.from(`${head}.${body}`),
    createPublicKey(app.publicKey),
    Buffer.from(signature, "base64url"),
  );
  if (!good) return "A JSON web token could not be decoded (bad signature)";
  if (String(claims.iss) !== String(app.id)) return `'Issuer' claim ('iss') must be ${app.id}`;
  const now = Date.now() / 1000;
  if (typeof claims.exp !== "number" || claims.exp < now)
    return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
  if (typeof claims.iat !== "number" || claims.iat > now + 60)
    return "'Issued at' claim ('iat') is in the future";
  return undefined;
}

export function githubAppRouter(state: ForgeSimState, app: SimAppOptions): Router {
  const router = Router();
  const asApp = (req: Request, res: Response): boolean => {
    const problem = jwtProblem(req.get("authorization"), app);
    if (problem) res.status(401).json({ message: problem });
    return !problem;
  };
  const installation = (id: number, account: string) => ({
    id,
    app_id: app.id,
    account: { login: account },
    target_type: "Organization",
  });

  // Who the App is: what `taster doctor` asks to check the App id and key.
  router.get("/app", (req, res) => {
    if (!asApp(req, res)) return;
    res.json({ id: app.id, slug: "taster-sim", name: "Taster (simulated)", owner: { login: "coop-cloud" } });
  });

  router.get("/repos/:owner/:repo/installation", (req, res) => {
    if (!asApp(req, res)) return;
    const id = state.installations.get(String(req.params.owner));
    if (id === undefined || !state.repos.has(`${req.params.owner}/${req.params.repo}`))
      return res.status(404).json({ message: "Not Found" });
    res.json(installation(id, String(req.params.owner)));
  });

  router.get("/orgs/:org/installation", (req, res) => {
    if (!asApp(req, res)) return;
    const id = state.installations.get(String(req.params.org));
    if (id === undefined) return res.status(404).json({ message: "Not Found" });
    res.json(installation(id, String(req.params.org)));
  });

  router.post("/app/installations/:id/access_tokens", (req, res) => {
    if (!asApp(req, res)) return;
    const id = Number(req.params.id);
    if (![...state.installations.values()].includes(id))
      return res.status(404).json({ message: "Not Found" });
    const token = `ghs_${randomBytes(12).toString("hex")}`;
    const expiresAt = new Date(Date.now() + state.appTokenTtlMs).toISOString();
    state.appTokens.push({ token, installationId: id, expiresAt });
    res.status(201).json({
      token,
      expires_at: expiresAt,
      permissions: {
        checks: "write",
        pull_requests: "write",
        issues: "write",
        contents: "read",
        metadata: "read",
      },
      repository_selection: "all",
    });
  });

  const checkRun = (c: SimCheckRun) => ({
    id: c.id,
    head_sha: c.headSha,
    external_id: c.externalId,
    name: c.name,
    status: c.status,
    conclusion: c.conclusion ?? null,
    details_url: c.detailsUrl ?? null,
    output: c.output,
  });

  router.post("/repos/:owner/:repo/check-runs", (req, res) => {
    const repo = `${req.params.owner}/${req.params.repo}`;
    if (!installationToken(state, req)) return refusedToken(res);
    if (!state.repos.has(repo)) return res.status(404).json({ message: "Not Found" });
    const b = req.body ?? {};
    if (typeof b.name !== "string" || typeof b.head_sha !== "string")
      return res.status(422).json({ message: "name and head_sha are required" });
    const created = state.addCheckRun({
      repo,
      headSha: b.head_sha,
      name: b.name,
      externalId: b.external_id,
      status: b.status ?? "queued",
      conclusion: b.conclusion,
      detailsUrl: b.details_url,
      output: b.output,
    });
    res.status(201).json(checkRun(created));
  });

  router.patch("/repos/:owner/:repo/check-runs/:id", (req, res) => {
    if (!installationToken(state, req)) return refusedToken(res);
    const found = state.checkRuns.find(
      (c) => c.id === Number(req.params.id) && c.repo === `${req.params.owner}/${req.params.repo}`,
    );
    if (!found) return res.status(404).json({ message: "Not Found" });
    const b = req.body ?? {};
    Object.assign(found, {
      ...(b.name ? { name: b.name } : {}),
      ...(b.status ? { status: b.status } : {}),
      ...(b.conclusion ? { conclusion: b.conclusion, status: "completed" } : {}),
      ...(b.output ? { output: b.output } : {}),
      ...(b.details_url ? { detailsUrl: b.details_url } : {}),
    });
    found.updates += 1;
    res.json(checkRun(found));
  });

  router.get("/repos/:owner/:repo/check-runs/:id", (req, res) => {
    const found = state.checkRuns.find((c) => c.id === Number(req.params.id));
    if (!found) return res.status(404).json({ message: "Not Found" });
    res.json(checkRun(found));
  });

  return router;
}

/** The request's installation token, if it carries one GitHub issued (expired ones are refused earlier). */
function installationToken(state: ForgeSimState, req: Request): boolean {
  const token = /^token (.+)$/i.exec(req.get("authorization") ?? "")?.[1];
  return state.appTokens.some((t) => t.token === token);
}

function refusedToken(res: Response) {
  return res.status(403).json({ message: "Resource not accessible by personal access token" });
}

/**
 * For the auth middleware: an installation token that expired is refused like GitHub does (401),
 * whatever the simulator's token setting; undefined when the header is not an installation token.
 */
export function installationTokenAnswer(
  state: ForgeSimState,
  header: string | undefined,
): boolean | undefined {
  const token = /^token (ghs_.+)$/i.exec(header ?? "")?.[1];
  if (!token) return undefined;
  const issued = state.appTokens.find((t) => t.token === token);
  if (!issued) return false;
  state.appTokenUses.push(token);
  return Date.parse(issued.expiresAt) > Date.now();
}
