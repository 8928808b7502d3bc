/**
 * A worker in its own process, for the tests that kill it (kill -9) or stop it (SIGTERM).
 * argv[2]: JSON { host, hostUrl, redisUrl, simUrl, token, botLogin, keyPrefix, bullPrefix, dataDir,
 * recipe, lockDurationMs, stalledIntervalMs }. Prints "ready" once it takes jobs.
 */
import { createWorker, githubReporter } from "../src/index";

const c = JSON.parse(process.argv[2] ?? "{}");
const worker = createWorker({
  host: c.host,
  hostUrl: c.hostUrl,
  redisUrl: c.redisUrl,
  forges: { github: githubReporter({ token: c.token, baseUrl: c.simUrl, botLogin: c.botLogin }) },
  publicUrl: "https://taster.test",
  keyPrefix: c.keyPrefix,
  bullPrefix: c.bullPrefix,
  dataDir: c.dataDir,
  recipeSource: () => c.recipe,
  secrets: [c.token],
  lockDurationMs: c.lockDurationMs,
  stalledIntervalMs: c.stalledIntervalMs,
  reportBackoff: { baseMs: 200, maxMs: 2_000, attempts: 40 },
  log: (line) => process.stderr.write(`child: ${line}\n`),
});
await worker.ready();
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  worker.close().then(() => {
    process.stdout.write("stopped\n");
    process.exit(0);
  });
});
