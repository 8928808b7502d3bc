import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmod, chown, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ENV_BROKER_SOCKET, ENV_BROKER_TOKEN, ENV_CONTEXT, type RunContext } from "@taster/testkit";
import { jestConfig, toolPaths } from "./jest-config";
import { labelPath, tidyJestLine } from "./jest-output";
import type { TestRow } from "./results";
import { exposeToSandbox, openPathTo, type SandboxSlot } from "./slot";

export { toolPaths } from "./jest-config";

export { acquireSlot, exposeToSandbox, type SandboxSlot, slotConfig } from "./slot";

export interface SandboxRun {
  /** Test files to run, all in ONE jest process. */
  files: string[];
  /** Directories jest may look in (recipes-tests, the approved repo-local tests, the work dir). */
  roots: string[];
  /** A fresh per-tier directory inside the slot's run directory; made 0700 for the slot's uid. */
  workDir: string;
  /** The run's sandbox slot: the uid/gid the tests run as. */
  slot: SandboxSlot;
  broker: { socketPath: string; token: string };
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
  /** Each line of jest's own output, as it comes, redacted and within OUTPUT_LIMITS. */
  onOutput?: (line: string) => void;
  /** Masks secret values; applied before a line is cut, so a cut never shows half a secret. */
  redact?: (text: string) => string;
  /** The util-linux unshare to use (default /usr/bin/unshare); tests point it at one that fails. */
  unshare?: string;
}

export interface SandboxResult {
  rows: TestRow[];
  timedOut: boolean;
  exitCode: number | null;
  /** Set when jest produced no usable report (crash, bad config, killed, no sandbox). */
  error?: string;
}

/** What one tier may stream into the run log: longer lines are cut, the rest after the total is dropped. */
export const OUTPUT_LIMITS = { lineChars: 4000, totalBytes: 1024 * 1024 };

/** The largest jest report we read back (the tests can write that file themselves). */
const MAX_REPORT_BYTES = 64 * 1024 * 1024;

/** Only what a test needs: no tokens of ours, no Redis URL, no DOCKER_HOST. */
function scrubbedEnv(run: SandboxRun): Record<string, string> {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: join(run.workDir, "home"),
    TMPDIR: join(run.workDir, "tmp"),
    NODE_OPTIONS: "--experimental-vm-modules --no-warnings",
    [ENV_BROKER_SOCKET]: run.broker.socketPath,
    [ENV_BROKER_TOKEN]: run.broker.token,
    [ENV_CONTEXT]: JSON.stringify(run.context),
  };
}

/**
 * The tier's work dir (and home, tmp, cache) belong to the slot's uid, mode 0700: no other run's
 * tests can look in. What the orchestrator put there beforehand (a hook runner) stays read-only.
 */
async function prepareWorkDir(run: SandboxRun): Promise<string> {
  const { slot } = run;
  const cacheDir = run.cacheDir ?? join(run.workDir, "jest-cache");
  await mkdir(run.workDir, { recursive: true });
  await exposeToSandbox(run.workDir, slot);
  await mkdir(cacheDir, { recursive: true });
  await openPathTo(cacheDir, slot);
  for (const dir of [run.workDir, join(run.workDir, "home"), join(run.workDir, "tmp"), cacheDir]) {
    await mkdir(dir, { recursive: true });
    await chown(dir, slot.uid, slot.gid);
    await chmod(dir, 0o700);
  }
  const configPath = join(run.workDir, "jest.config.json");
  await writeFile(configPath, JSON.stringify(jestConfig(run.workDir, run.roots, cacheDir), null, 2), {
    mode: 0o644,
  });
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
  const short = (file: string) => labelPath(file, baseDirs);
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

/**
 * Feeds complete lines of both streams to onLine within OUTPUT_LIMITS: a line is redacted, then
 * cut at lineChars; once totalBytes went out, one marker says so and the rest is drained unseen.
 * A stream that never ends its line is cut the same way and not buffered beyond a bound.
 */
export function boundedLines(
  streams: (NodeJS.ReadableStream | null)[],
  onLine: ((line: string) => void) | undefined,
  redact: (text: string) => string = (text) => text,
  limits = OUTPUT_LIMITS,
): void {
  let left = limits.totalBytes;
  let stopped = false;
  const emit = (raw: string, cut: boolean) => {
    if (stopped || !onLine) return;
    const clean = redact(raw);
    const long = cut || clean.length > limits.lineChars;
    const line = long ? `${clean.slice(0, limits.lineChars)} … (truncated: line too long)` : clean;
    const size = Buffer.byteLength(line) + 1;
    if (size > left) {
      stopped = true;
      onLine(`(truncated: this tier's output passed ${limits.totalBytes} bytes; the rest is not shown)`);
      return;
    }
    left -= size;
    onLine(line);
  };
  // Redaction must see a whole secret: keep far more than a line before cutting a runaway one.
  const maxPending = limits.lineChars * 16;
  for (const stream of streams) {
    if (!stream) continue;
    let pending = "";
    let skipping = false; // inside a runaway line already shown cut
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      pending += chunk;
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        if (!skipping) emit(pending.slice(0, newline), false);
        skipping = false;
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
      }
      if (pending.length > maxPending) {
        if (!skipping) emit(pending, true);
        skipping = true;
        pending = "";
      }
    });
    stream.on("end", () => {
      if (pending && !skipping) emit(pending, false);
    });
  }
}

/**
 * jest runs as PID 1 of fresh PID, mount, IPC and network namespaces, as the slot's uid with no
 * capabilities and no_new_privs: it sees only its own processes in /proc, has no network but a
 * down loopback (the broker is a unix socket), and when it exits or is killed (--kill-child) the
 * kernel kills everything it started, even a process in a session of its own.
 */
const NAMESPACES = ["--net", "--pid", "--mount-proc", "--ipc", "--fork", "--kill-child"];
const UNSHARE = "/usr/bin/unshare";
const SETPRIV = "/usr/bin/setpriv";

function asSlotUser(slot: SandboxSlot): string[] {
  return [
    SETPRIV,
    `--reuid=${slot.uid}`,
    `--regid=${slot.gid}`,
    "--clear-groups",
    "--no-new-privs",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--",
  ];
}

const workingUnshare = new Set<string>();

/**
 * Why this machine cannot make the sandbox (no unshare, no CAP_SYS_ADMIN, a seccomp or AppArmor
 * profile that forbids namespaces or mounting /proc), or undefined when it can. A success is
 * remembered per unshare binary; a failure is asked again next time (it may have been transient).
 * There is no weaker fallback.
 */
export async function sandboxUnavailable(slot: SandboxSlot, unshare = UNSHARE): Promise<string | undefined> {
  if (workingUnshare.has(unshare)) return undefined;
  const why = await new Promise<string | undefined>((resolve) => {
    const argv = [...NAMESPACES, "--", ...asSlotUser(slot), "/bin/true"];
    execFile(unshare, argv, { timeout: 15_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve(undefined);
      resolve(String(stderr).trim().split("\n")[0] || error.message);
    });
  });
  if (!why) workingUnshare.add(unshare);
  return why;
}

/**
 * Runs the files in ONE jest child process in the sandbox (namespaces above, the slot's uid, a
 * scrubbed environment, its own process group). A hang is killed (the whole group) at timeoutMs.
 * Without the namespaces nothing runs: the result says why.
 */
export async function runSandboxed(run: SandboxRun): Promise<SandboxResult> {
  const unavailable = await sandboxUnavailable(run.slot, run.unshare);
  if (unavailable) {
    return {
      rows: [],
      timedOut: false,
      exitCode: null,
      error: `no test code was run: this worker cannot make the test sandbox (${unavailable}); the worker needs util-linux unshare and setpriv, root with CAP_SYS_ADMIN, and a security profile that allows namespaces and mounting /proc (docs/operations.md)`,
    };
  }
  const configPath = await prepareWorkDir(run);
  const outputFile = join(run.workDir, "jest-results.json");
  const jestArgs = [
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
  const child = spawn(
    run.unshare ?? UNSHARE,
    [...NAMESPACES, "--", ...asSlotUser(run.slot), process.execPath, ...jestArgs],
    { cwd: run.workDir, env: scrubbedEnv(run), detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  const bases = run.labelBases ?? run.roots;
  const onOutput = run.onOutput;
  const tidied = onOutput
    ? (line: string) => {
        const tidy = tidyJestLine(line, run.workDir, bases);
        if (tidy !== undefined) onOutput(tidy);
      }
    : undefined;
  boundedLines([child.stdout, child.stderr], tidied, run.redact);
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
  const report = await readReport(outputFile);
  if (!report) return { rows: [], timedOut, exitCode, error: `jest exited ${exitCode} without a report` };
  return { rows: rowsFromJestJson(report, run.labelBases ?? run.roots), timedOut, exitCode };
}

async function readReport(path: string): Promise<JestJson | undefined> {
  try {
    if ((await stat(path)).size > MAX_REPORT_BYTES) return undefined;
    return JSON.parse(await readFile(path, "utf8")) as JestJson;
  } catch {
    return undefined;
  }
}
