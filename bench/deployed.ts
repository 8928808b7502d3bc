import { readFileSync } from "node:fs";

/**
 * The node flags the http role is deployed with: NODE_OPTIONS of the `app` service in
 * infra/deploy/compose.yml ("" if none). The benches start the role — and bench/webhooks its bare
 * baseline — with exactly these, so they measure what runs in production.
 */
export function deployedHttpNodeOptions(): string {
  const compose = readFileSync(new URL("../infra/deploy/compose.yml", import.meta.url), "utf8");
  const app = compose.slice(compose.indexOf("\n  app:\n"), compose.indexOf("\n  intake:\n"));
  return /^\s*- NODE_OPTIONS=(.*)$/m.exec(app)?.[1]?.trim() ?? "";
}
