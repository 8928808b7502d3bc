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
  /** The host's own (non-loopback) addresses, each with a port something listens on there. */
  hostAddresses: { host: string; port: number }[];
  /** Taster's processes (the worker and its parent) as the host numbers them. */
  hostPids: number[];
  /** Another run's sandbox, live while this test runs: its work dir and its broker socket. */
  otherRun: { workDir: string; brokerSocket: string };
  /** Places outside the work dir the test must not be able to write to (plus its own checkout). */
  writeTargets: string[];
}

/**
 * One test per escape attempt; each passes only when the attempt was denied, and prints what
 * happened either way ("chaos escape <what>: denied|ALLOWED …").
 */
export function escapingTest(targets: EscapeTargets): string {
  return `import { readdirSync, readFileSync, writeFileSync } from "node:fs";
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

// Not a word exchanged: a TCP connection to the host at all is the escape.
for (const { host, port } of targets.hostAddresses) {
  test(\`escape: connect to the host at \${host}:\${port}\`, async () => {
    const outcome = await attempt(\`host \${host}:\${port}\`, () =>
      new Promise((resolve, reject) => {
        const socket = connect({ host, port });
        socket.setTimeout(3000, () => socket.destroy(new Error("no answer")));
        socket.on("connect", () => { socket.destroy(); resolve("connected"); });
        socket.on("error", reject);
      }),
    );
    expect(outcome).toMatch(/^denied/);
  });
}

for (const [i, pid] of targets.hostPids.entries()) {
  test(\`escape: read the environment of Taster's process #\${i + 1}\`, async () => {
    const outcome = await attempt(\`read /proc/\${pid}/environ\`, () =>
      readFileSync(\`/proc/\${pid}/environ\`, "utf8").split("\\0").length + " variables",
    );
    expect(outcome).toMatch(/^denied/);
  });
  test(\`escape: signal Taster's process #\${i + 1}\`, async () => {
    expect(await attempt(\`SIGTERM to /proc/\${pid}\`, () => process.kill(pid, "SIGTERM"))).toMatch(/^denied/);
  });
}

// Another run's sandbox is running right now: its broker token sits in its environment.
test("escape: another sandbox's broker token in /proc/*/environ", async () => {
  const own = process.env.TASTER_BROKER_TOKEN;
  const outcome = await attempt("another sandbox's /proc/*/environ", () => {
    const pids = readdirSync("/proc").filter((entry) => /^\\d+$/.test(entry));
    for (const pid of pids) {
      let environ = "";
      try {
        environ = readFileSync(\`/proc/\${pid}/environ\`, "utf8");
      } catch {
        continue;
      }
      const token = /(?:^|\\0)TASTER_BROKER_TOKEN=([^\\0]*)/.exec(environ)?.[1];
      if (token && token !== own) return \`a token of \${token.length} chars in /proc/\${pid}\`;
    }
    throw new Error(\`no other sandbox among the \${pids.length} processes this one sees\`);
  });
  expect(outcome).toMatch(/^denied/);
});

test("escape: read another run's work dir", async () => {
  const outcome = await attempt(\`list \${targets.otherRun.workDir}\`, () =>
    readdirSync(targets.otherRun.workDir).join(","),
  );
  expect(outcome).toMatch(/^denied/);
});

test("escape: call another run's broker", async () => {
  const outcome = await attempt(\`connect \${targets.otherRun.brokerSocket}\`, () =>
    talk({ path: targets.otherRun.brokerSocket }, "POST /v1/services HTTP/1.0\\r\\n\\r\\n"),
  );
  expect(outcome).toMatch(/^denied/);
});

// Its own checkout (tests/taster, the recipe's root) and the run's workspace above its work dir.
const ownPlaces = [here, join(here, "..", ".."), join(process.cwd(), "..", "..")];
for (const dir of [...targets.writeTargets, targets.otherRun.workDir, ...ownPlaces]) {
  test(\`escape: write into \${dir}\`, async () => {
    const path = join(dir, "chaos-escaped.txt");
    expect(await attempt(\`write \${path}\`, () => writeFileSync(path, "escaped") ?? "written")).toMatch(/^denied/);
  });
}

`;
}
