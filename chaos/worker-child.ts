/**
 * A worker in its own process, for the scenario that kills it with SIGKILL mid-deploy.
 * stdin: JSON ChildConfig (it holds secrets, so never argv). Prints "ready" once it takes jobs;
 * SIGTERM closes it gracefully.
 */

import { text } from "node:stream/consumers";
import { createWorker, githubReporter } from "@taster/worker";
import type { ChildConfig } from "./child";

const c = JSON.parse(await text(process.stdin)) as ChildConfig;
const worker = createWorker({
  host: c.host,
  hostUrl: c.hostUrl,
  redisUrl: c.redisUrl,
  forges: { github: githubReporter({ token: c.token, baseUrl: c.forgeUrl, botLogin: c.botLogin }) },
  publicUrl: c.publicUrl,
  keyPrefix: c.keyPrefix,
  bullPrefix: c.bullPrefix,
  dataDir: c.dataDir,
  recipeSource: () => c.recipe,
  secrets: c.secrets,
  lockDurationMs: c.lockDurationMs,
  stalledIntervalMs: Math.max(500, c.lockDurationMs / 2),
  reportBackoff: { baseMs: 200, maxMs: 2_000, attempts: 40 },
});
await worker.ready();
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  worker.close().finally(() => process.exit(0));
});
