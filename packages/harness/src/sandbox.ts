import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmod, chown, lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { infraError } from "@taster/core";
import { ENV_BROKER_TOKEN, ENV_BROKER_URL, ENV_CONTEXT, type RunContext } from "@taster/testkit";
import { jestConfig, toolPaths } from "./jest-config";
import type { TestRow } from "./results";

export { toolPaths } from "./jest-config";

/** The uid/gid sandboxed tests run as: `nobody` cannot open the Docker socket nor read our environ. */
export const SANDBOX_UID = 65534;
export const SANDBOX_GID = 65534;

export interface SandboxRun {
  /** Test files to run, all in ONE jest process. */
  files: string[];
  /** Directories jest may look in (recipes-tests, the checkout's tests/taster, the work dir). */
  roots: string[];
  /** A fresh per-tier directory; made and handed to the sandbox uid. */
  workDir: string;
  broker: { url: string; token: string };
  context: RunContext;
  timeoutMs: number;
  /** Start the timeout clock only once this settles (jest may start while the tier's op runs). */
  clockStartsAfter?: Promise<unknown>;
  /** jest's transform cache; share one per run so later tiers start warm (never across runs). */
  cacheDir?: string;
  /** Rows name files relative to the first of these that holds them (default: the roots). */
  labelBases?: string[];
  /** Aborting kills the jest process group at once (SIGINT/SIGTERM of the run). */
  signal?: AbortSignal;
  /** Each line of jest's own output, as it comes (the caller redacts and logs). */
  onOutput?: (line: string) => void;
}

export interface SandboxResult {
  rows: TestRow[];
  timedOut: boolean;
  exitCode: number | null;
  /** Set when jest produced no usable report (crash, bad config, killed). */
  error?: string;
}

/**
 * Makes `path` readable for the sandbox uid: the tree itself, and its ancestors up to and
 * including `within` become traversable (o+x, never o+r). Directories above `within` are never
 * changed: if one of them is closed to others, that is an error naming it.
 */
export async function exposeToSandbox(path: string, within = dirname(path)): Promise<void> {
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = (await lstat(dir)).mode & 0o7777;
    if ((mode & 0o001) !== 0) continue;
    if (!(dir === within || dir.startsWith(`${within}${sep}`))) {
      throw infraError(
        `${dir} is closed to the sandbox user (mode ${mode.toString(8)}): choose a work root under /tmp`,
      );
    }
    await chmod(dir, mode | 0o001);
  }
  await walkReadable(path);
}

async function walkReadable(path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  const mode = info.mode & 0o7777;
  if (info.isDirectory()) {
    if ((mode & 0o005) !== 0o005) await chmod(path, mode | 0o005);
    for (const name of await readdir(path)) await walkReadable(join(path, name));
  } else if ((mode & 0o004) === 0) {
    await chmod(path, mode | 0o004);
  }
}

/** Only what a test needs: no tokens of ours, no Redis URL, no DOCKER_HOST. */
function scrubbedEnv(run: SandboxRun): Record<string, string> {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: join(run.workDir, "home"),
    TMPDIR: join(run.workDir, "tmp"),
    NODE_OPTIONS: "--experimental-vm-modules --no-warnings",
    [ENV_BROKER_URL]: run.broker.url,
    [ENV_BROKER_TOKEN]: run.broker.token,
    [ENV_CONTEXT]: JSON.stringify(run.context),
  };
}

async function prepareWorkDir(run: SandboxRun): Promise<string> {
  const owned = ["", "home", "tmp"].map((sub) => join(run.workDir, sub));
  for (const dir of [...owned, run.cacheDir ?? join(run.workDir, "jest-cache")]) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chown(dir, SANDBOX_UID, SANDBOX_GID);
  }
  await exposeToSandbox(run.workDir);
  const configPath = join(run.workDir, "jest.config.json");
  await writeFile(
    configPath,
    JSON.stringify(
      jestConfig(run.workDir, run.roots, run.cacheDir ?? join(run.workDir, "jest-cache")),
      null,
      2,
    ),
    { mode: 0o644 },
  );
  return configPath;
}

interface JestJson {
  testResults?: {
    name: string;
    status: string;
    message?: string;
    assertionResults?: {
      fullName: string;
      status: string;
      duration?: number | null;
      failureMessages?: string[];
    }[];
  }[];
}

const ROW_STATUS: Record<string, TestRow["status"]> = { passed: "pass", failed: "fail" };

/** One row per test; a file that failed to load becomes one failing row with jest's message. */
export function rowsFromJestJson(report: JestJson, baseDirs: string[]): TestRow[] {
  const short = (file: string) => {
    for (const base of baseDirs) if (file.startsWith(base + sep)) return relative(base, file);
    return file;
  };
  const rows: TestRow[] = [];
  for (const file of report.testResults ?? []) {
    const assertions = file.assertionResults ?? [];
    if (assertions.length === 0 && file.status === "failed") {
      rows.push({
        file: short(file.name),
        name: "(file failed to run)",
        status: "fail",
        durationMs: 0,
        failure: file.message,
      });
    }
    for (const a of assertions) {
      const failure = a.failureMessages?.join("\n").trim();
      rows.push({
        file: short(file.name),
        name: a.fullName,
        status: ROW_STATUS[a.status] ?? "skip",
        durationMs: a.duration ?? 0,
        ...(failure ? { failure } : {}),
      });
    }
  }
  return rows;
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function streamLines(stream: NodeJS.ReadableStream | null, onLine?: (line: string) => void): void {
  let pending = "";
  stream?.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) onLine?.(line);
  });
  stream?.on("end", () => pending && onLine?.(pending));
}

/**
 * A test can start a process in a session of its own (setsid, `spawn(…, { detached: true })`),
 * out of reach of the process-group kill. So jest runs as PID 1 of a fresh PID namespace, as the
 * sandbox uid: when it exits or is killed (--kill-child), the kernel kills everything left in it.
 */
const IN_OWN_PID_NAMESPACE = [
  "--pid",
  "--fork",
  "--kill-child",
  `--setuid=${SANDBOX_UID}`,
  `--setgid=${SANDBOX_GID}`,
];

let pidNamespace: Promise<boolean> | undefined;

/** Whether this host lets us make PID namespaces (util-linux unshare, CAP_SYS_ADMIN); asked once. */
export function pidNamespaceAvailable(): Promise<boolean> {
  pidNamespace ??= new Promise((resolve) => {
    execFile("unshare", [...IN_OWN_PID_NAMESPACE, "--", "true"], (error) => resolve(!error));
  });
  return pidNamespace;
}

/**
 * Runs the files in ONE jest child process, as the sandbox uid, in its own process group, with a
 * scrubbed environment. A hang is killed (the whole group) at timeoutMs.
 */
export async function runSandboxed(run: SandboxRun): Promise<SandboxResult> {
  const configPath = await prepareWorkDir(run);
  const outputFile = join(run.workDir, "jest-results.json");
  const args = [
    toolPaths.jestBin,
    "--config",
    configPath,
    "--ci",
    "--runInBand",
    "--forceExit",
    "--json",
    "--outputFile",
    outputFile,
    "--runTestsByPath",
    ...run.files,
  ];
  const options = {
    cwd: run.workDir,
    env: scrubbedEnv(run),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"] as ("ignore" | "pipe")[],
  };
  const child = (await pidNamespaceAvailable())
    ? spawn("unshare", [...IN_OWN_PID_NAMESPACE, "--", process.execPath, ...args], options)
    : spawn(process.execPath, args, { ...options, uid: SANDBOX_UID, gid: SANDBOX_GID });
  streamLines(child.stdout, run.onOutput);
  streamLines(child.stderr, run.onOutput);
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let exited = false;
  const startClock = () => {
    if (exited) return;
    timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, run.timeoutMs);
  };
  if (run.clockStartsAfter) run.clockStartsAfter.then(startClock, startClock);
  else startClock();
  const onAbort = () => killGroup(child);
  run.signal?.addEventListener("abort", onAbort, { once: true });
  const exitCode = await new Promise<number | null>((done) => {
    child.on("error", () => done(null));
    child.on("close", (code) => done(code));
  });
  exited = true;
  clearTimeout(timer);
  run.signal?.removeEventListener("abort", onAbort);
  killGroup(child); // nothing a test started may outlive its tier
  if (timedOut) {
    const seconds = Math.round(run.timeoutMs / 1000);
    return {
      rows: [
        { file: "(tier)", name: `timed out after ${seconds}s`, status: "fail", durationMs: run.timeoutMs },
      ],
      timedOut,
      exitCode,
      error: `timed out after ${seconds}s`,
    };
  }
  const report = await readFile(outputFile, "utf8").then(
    (text) => JSON.parse(text) as JestJson,
    () => undefined,
  );
  if (!report) return { rows: [], timedOut, exitCode, error: `jest exited ${exitCode} without a report` };
  return { rows: rowsFromJestJson(report, run.labelBases ?? run.roots), timedOut, exitCode };
}
