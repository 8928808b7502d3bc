/**
 * The sources of hostile repo-local tests (tests/taster/install.test.ts), as the recipe would ship
 * them. They run in Taster's sandbox, so they are text here, not modules of this workspace.
 */

/** Never returns, and leaves a detached process behind that must not outlive the tier. */
export function hangingTest(marker: string): string {
  return `import { spawn } from "node:child_process";
import { test } from "@jest/globals";

test("waits forever", async () => {
  // A process in its own session: killing jest's process group does not reach it.
  spawn("sh", ["-c", "sleep 3600; : ${marker}"], { detached: true, stdio: "ignore" }).unref();
  console.log("chaos hang: started a detached sleeper, now waiting forever");
  await new Promise(() => {});
});
`;
}

/**
 * Reads the app's generated secret and prints it every way a test can reach the outside: its
 * output, its test name, a failure message (results.json, the comment). Also prints its env.
 */
export function secretPrintingTest(secretPath: string): string {
  return `import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";

const read = await app.exec("app", ["cat", ${JSON.stringify(secretPath)}]);
const secret = read.stdout.trim();

test(\`the app's secret is \${secret}\`, () => {
  console.log(\`chaos secret: \${secret} (exit \${read.exitCode}, \${secret.length} chars)\`);
  process.stdout.write(\`chaos secret on stdout: \${secret}\\n\`);
  process.stderr.write(\`chaos secret on stderr: \${JSON.stringify({ secret })}\\n\`);
  for (const [name, value] of Object.entries(process.env)) console.log(\`chaos env \${name}=\${value}\`);
  expect(\`leaked \${secret}\`).toBe("a failure message that quotes the secret");
});
`;
}

export interface EscapeTargets {
  /** Unix sockets of Docker engines. */
  dockerSockets: string[];
  /** Root-only files that hold the lab Redis password. */
  secretFiles: string[];
  redis: { host: string; port: number };
  /** Places outside the work dir the test must not be able to write to (plus its own checkout). */
  writeTargets: string[];
}

/**
 * One test per escape attempt; each passes only when the attempt was denied, and prints what
 * happened either way ("chaos escape <what>: denied|ALLOWED …").
 */
export function escapingTest(targets: EscapeTargets): string {
  return `import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { expect, test } from "@jest/globals";

const targets = ${JSON.stringify(targets)};
const here = dirname(expect.getState().testPath ?? "");

async function attempt(what, action) {
  let outcome;
  try {
    outcome = \`ALLOWED \${String(await action()).slice(0, 80)}\`;
  } catch (error) {
    outcome = \`denied (\${error.code ?? error.message})\`;
  }
  console.log(\`chaos escape \${what}: \${outcome}\`);
  return outcome;
}

function talk(options, request) {
  return new Promise((resolve, reject) => {
    const socket = connect(options);
    let answer = "";
    socket.setTimeout(3000, () => socket.destroy(new Error("no answer")));
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk) => {
      answer += chunk.toString();
      socket.end();
    });
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

for (const path of targets.dockerSockets) {
  test(\`escape: the Docker socket \${path}\`, async () => {
    const outcome = await attempt(\`docker socket \${path}\`, () =>
      talk({ path }, "GET /containers/json HTTP/1.0\\r\\n\\r\\n"),
    );
    expect(outcome).toMatch(/^denied/);
  });
}

for (const path of targets.secretFiles) {
  test(\`escape: read \${path}\`, async () => {
    expect(await attempt(\`read \${path}\`, () => readFileSync(path, "utf8").length + " chars")).toMatch(/^denied/);
  });
}

test("escape: talk to the lab Redis", async () => {
  const outcome = await attempt("redis", async () => {
    const answer = await talk(targets.redis, "PING\\r\\n");
    if (/NOAUTH|WRONGPASS|ERR/.test(answer)) throw new Error(answer.trim());
    return answer.trim();
  });
  expect(outcome).toMatch(/^denied/);
});

// Its parents as the host sees them (in a PID namespace of its own, process.ppid says 0).
function ancestors() {
  const pids = [];
  let pid = "self";
  while (pids.length < 3) {
    const status = readFileSync(\`/proc/\${pid}/status\`, "utf8");
    const parent = Number(/^PPid:\\s+(\\d+)/m.exec(status)?.[1] ?? 0);
    if (parent <= 1) break;
    pids.push(parent);
    pid = parent;
  }
  return pids.length ? pids : [process.ppid];
}

for (const [i, pid] of ancestors().entries()) {
  test(\`escape: read the environment of parent #\${i + 1}\`, async () => {
    const outcome = await attempt(\`read /proc/\${pid}/environ\`, () =>
      readFileSync(\`/proc/\${pid}/environ\`, "utf8").split("\\0").length + " variables",
    );
    expect(outcome).toMatch(/^denied/);
  });
  test(\`escape: signal parent #\${i + 1}\`, async () => {
    expect(await attempt(\`SIGTERM to /proc/\${pid}\`, () => process.kill(pid, "SIGTERM"))).toMatch(/^denied/);
  });
}

// Its own checkout (tests/taster, the recipe's root) and the run's workspace above its work dir.
const ownPlaces = [here, join(here, "..", ".."), join(process.cwd(), "..", "..")];
for (const dir of [...targets.writeTargets, ...ownPlaces]) {
  test(\`escape: write into \${dir}\`, async () => {
    const path = join(dir, "chaos-escaped.txt");
    expect(await attempt(\`write \${path}\`, () => writeFileSync(path, "escaped") ?? "written")).toMatch(/^denied/);
  });
}

`;
}
