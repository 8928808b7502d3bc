import type { Logger } from "@taster/core";
import {
  type CommentEvent,
  GithubSignatureVerifier,
  normalizeGiteaComment,
  normalizeGithubCheckRun,
  normalizeGithubComment,
  normalizePullRequest,
  type PushEvent,
  verifyGiteaSignature,
} from "@taster/forge";
import express, { type NextFunction, type Request, type Response, Router } from "express";
import type { BridgeConfig } from "./config";
import type { Accepted, Intake } from "./intake";
import type { BridgeMetrics } from "./metrics";
import type { CheckRunRerun } from "./rerun";

interface Delivery {
  forge: "github" | "gitea";
  event: string;
  deliveryId: string;
}

/**
 * POST /webhooks/github and /webhooks/gitea. Order matters: content type (415) → raw body within
 * the size limit (413) → signature over the raw bytes (401) → JSON (400) → the intake, which answers
 * 202 once the command is durably in Redis (503 if Redis is down). Nothing is queued unless every check passes.
 * `pull_request` events (head pushed) are recorded with their receive time, answered 200.
 */
export function webhookRouter(
  config: BridgeConfig,
  intake: Intake,
  metrics: BridgeMetrics,
  log: Logger,
  rerun?: CheckRunRerun,
): Router {
  const router = Router();
  const raw = express.raw({ type: () => true, limit: config.maxBodyBytes });
  const github = config.github ? new GithubSignatureVerifier(config.github.webhookSecrets) : undefined;
  const giteaSecrets = config.gitea?.webhookSecrets ?? [];

  const receive =
    (
      forge: Delivery["forge"],
      verify: (req: Request, body: Buffer, text: string) => Promise<boolean> | boolean,
    ) =>
    async (req: Request, res: Response) => {
      const started = process.hrtime.bigint();
      const receivedAtMs = Date.now();
      const delivery = readDelivery(forge, req);
      const answer = (status: number, outcome: string, extra: Record<string, unknown> = {}) => {
        metrics.delivered(forge, delivery.event || "unknown", outcome, started);
        res.status(status).json({ outcome, ...extra });
      };
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!delivery.event || !delivery.deliveryId) {
        return answer(400, "bad-request", {
          reason: `missing ${forge === "github" ? "X-GitHub-Event/X-GitHub-Delivery" : "X-Gitea-Event/X-Gitea-Delivery"} header`,
        });
      }
      // Decoded once: the signature check and the JSON parse both need the text.
      const text = body.toString("utf8");
      if (!(await verify(req, body, text)))
        return answer(401, "bad-signature", { reason: "signature does not match" });
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch {
        return answer(400, "malformed-json", { reason: "body is not valid JSON" });
      }
      if (delivery.event === "ping") return answer(200, "pong");
      if (delivery.event === "pull_request") {
        let push: PushEvent;
        try {
          push = normalizePullRequest(forge, payload);
        } catch (error) {
          return answer(400, "bad-payload", { reason: (error as Error).message });
        }
        const { status, outcome, ...rest } = await intake.acceptPush(push, receivedAtMs);
        return answer(status, outcome, rest);
      }
      if (forge === "github" && delivery.event === "check_run" && rerun) {
        let checkRun: ReturnType<typeof normalizeGithubCheckRun>;
        try {
          checkRun = normalizeGithubCheckRun(payload);
        } catch (error) {
          return answer(400, "bad-payload", { reason: (error as Error).message });
        }
        const { status, outcome, ...rest } = await rerun.accept(checkRun, delivery.deliveryId);
        return answer(status, outcome, rest);
      }
      if (!isCommentEvent(forge, delivery.event))
        return answer(200, "ignored", { reason: `event ${delivery.event} is not handled` });
      let event: CommentEvent;
      try {
        event = forge === "github" ? normalizeGithubComment(payload) : normalizeGiteaComment(payload);
      } catch (error) {
        return answer(400, "bad-payload", { reason: (error as Error).message });
      }
      const handled: Accepted = await intake.accept(event, delivery.deliveryId);
      // One line per delivery costs a synchronous write on the hot path; accepted commands are
      // logged where they are processed ("command processed"), so here only at debug level.
      const level = handled.status >= 500 ? "warn" : "debug";
      if (log.isLevelEnabled(level)) {
        log[level](
          { forge, delivery: delivery.deliveryId, repo: event.repo, pr: event.pr, outcome: handled.outcome },
          "webhook",
        );
      }
      const { status, outcome, ...rest } = handled;
      answer(status, outcome, rest);
    };

  const contentType = (req: Request, res: Response, next: NextFunction) => {
    if (!req.is("application/json")) {
      res.status(415).json({
        outcome: "unsupported-media-type",
        reason: "send webhooks with content type application/json",
      });
      return;
    }
    next();
  };

  if (github) {
    router.post(
      "/webhooks/github",
      contentType,
      raw,
      receive("github", (req, _body, text) => github.verify(text, req.get("x-hub-signature-256"))),
    );
  }
  if (giteaSecrets.length > 0) {
    router.post(
      "/webhooks/gitea",
      contentType,
      raw,
      receive("gitea", (req, body) =>
        verifyGiteaSignature(
          giteaSecrets,
          body,
          req.get("x-gitea-signature") ?? req.get("x-forgejo-signature"),
        ),
      ),
    );
  }
  return router;
}

function readDelivery(forge: Delivery["forge"], req: Request): Delivery {
  if (forge === "github") {
    return { forge, event: req.get("x-github-event") ?? "", deliveryId: req.get("x-github-delivery") ?? "" };
  }
  return {
    forge,
    event: req.get("x-gitea-event") ?? req.get("x-forgejo-event") ?? "",
    deliveryId: req.get("x-gitea-delivery") ?? req.get("x-forgejo-delivery") ?? "",
  };
}

function isCommentEvent(forge: Delivery["forge"], event: string): boolean {
  return event === "issue_comment" || (forge === "gitea" && event === "pull_request_comment");
}
