// The http role's resident memory after start, as deployed: the production build (`pnpm build`)
// run by `./taster bridge` with TASTER_BRIDGE_ROLE=http and the NODE_OPTIONS of its deployment
// (infra/deploy/compose.yml). Target (issue #13): ≤ 100 MiB.
//   pnpm build && ./node_modules/.bin/tsx bench/bridge-rss.ts [starts=3] [built=dist/taster.mjs]
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureLab } from "@taster/lab";
import { deployedHttpNodeOptions } from "./deployed";

const ROOT = join(import.meta.dirname, "..");
const starts = Number(process.argv[2] ?? 3);
/** Another build to compare (e.g. `node scripts/build.mjs --outfile /tmp/before/taster.mjs`). */
const BUILT = process.argv[3] ?? join(ROOT, "dist", "taster.mjs");
if (!existsSync(BUILT)) throw new Error("no dist/taster.mjs: run `pnpm build` first");
const lab = await ensureLab();

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

async function once(i: number): Promise<number> {
  const port = 20_000 + ((process.pid * 7 + i) % 10_000);
  const prefix = `bench-rss-${process.pid}-${i}`;
  const child = spawn(process.execPath, [BUILT, "bridge"], {
    env: {
      PATH: process.env.PATH,
      // The node flags it is deployed with (infra/deploy/compose.yml, service app).
      NODE_OPTIONS: deployedHttpNodeOptions(),
      TASTER_BRIDGE_ROLE: "http",
      TASTER_PORT: String(port),
      TASTER_BIND: "127.0.0.1",
      TASTER_REDIS_URL: lab.redisUrl,
      TASTER_GITHUB_WEBHOOK_SECRET: "bench-rss-secret-0123456789",
      TASTER_GITHUB_TOKEN: "ghp_bench_rss_token",
      TASTER_REDIS_PREFIX: prefix,
      TASTER_BULL_PREFIX: `${prefix}-bull`,
      TASTER_ENROLLED_REPOS: "bench/rss",
    },
    stdio: "ignore",
  });
  try {
    for (let tries = 0; ; tries++) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (tries > 300) throw new Error("the built bridge did not become ready in 30 s");
      await sleep(100);
    }
    await sleep(2_000); // settled: what it holds while idle, answering nothing yet
    return rssMiB(child.pid ?? 0);
  } finally {
    child.kill();
  }
}

const figures: number[] = [];
for (let i = 0; i < starts; i++) figures.push(await once(i));
const median = [...figures].sort((a, b) => a - b)[Math.floor(figures.length / 2)] ?? 0;
console.log(
  `bench/bridge-rss: built http role RSS after start ${figures.map((f) => f.toFixed(0)).join(", ")} MiB; median ${median.toFixed(0)} MiB (target ≤ 100 MiB)`,
);
