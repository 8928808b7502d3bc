import type { AddressInfo } from "node:net";
import { Webhooks } from "@octokit/webhooks";
import express from "express";

/**
 * The benchmark's baseline (bench/webhooks.ts): a bare express app that only verifies the
 * signature with @octokit/webhooks and answers 202 — what handling a webhook costs at minimum.
 */
export async function startBareHandler(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const webhooks = new Webhooks({ secret });
  const app = express();
  app.post("/webhooks/github", express.raw({ type: "application/json", limit: "1mb" }), async (req, res) => {
    const ok = await webhooks.verify(
      (req.body as Buffer).toString("utf8"),
      req.get("x-hub-signature-256") ?? "",
    );
    res.status(ok ? 202 : 401).json({ ok });
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
