import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { childEnv, trustedBinary, usageError } from "@taster/core";

// git runs with a closed environment (childEnv: a fixed PATH, never Taster's tokens): the
// operator's HOME (its git config, e.g. url rewrites), ssh agent, proxies and TLS trust are passed
// on, nothing else — no GIT_DIR/GIT_INDEX_FILE of a hook, no editor or pager program.
const GIT_SETTINGS = ["GIT_SSL_CAINFO", "GIT_SSL_CAPATH"];
const OPERATOR = [
  "HOME",
  "SSH_AUTH_SOCK",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "ALL_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "all_proxy",
  "no_proxy",
];

/** The whole environment of a git child. */
export function gitEnvironment(): Record<string, string> {
  // LC_ALL=C: the messages fetch errors are matched against are git's untranslated ones.
  return childEnv({ GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" }, [...OPERATOR, ...GIT_SETTINGS]);
}

/** git in one directory: `raw(args)` runs it and resolves with its stdout. */
export interface Git {
  raw(args: string[]): Promise<string>;
}

/** A git that never prompts for credentials and gives up when a remote goes silent. */
export function gitIn(dir: string | undefined, timeoutMs = 120_000): Git {
  return { raw: (args) => runGit(dir, args, timeoutMs) };
}

/**
 * One git process, spawned directly. (simple-git, used before, waits 50 ms after every command
 * that prints nothing — `fetch --quiet`, `checkout --quiet`, an ancestry check — which was a
 * third of a run's preparation.) Its rules are kept: a command that exits non-zero and says so on
 * stderr fails with stdout + stderr as the message; one that exits non-zero in silence resolves
 * with its stdout; a command that prints nothing for `idleMs` is stopped ("block timeout reached").
 */
function runGit(dir: string | undefined, args: string[], idleMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(trustedBinary("git"), args, {
      ...(dir ? { cwd: dir } : {}),
      env: gitEnvironment(),
      stdio: ["ignore", "pipe", "pipe"],
      windowsHide: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let idle: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (error: Error | null, code?: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      if (error) return reject(error);
      const out = Buffer.concat(stdout).toString("utf8");
      if (code === 0 || stderr.length === 0) return resolvePromise(out);
      reject(new Error(out + Buffer.concat(stderr).toString("utf8")));
    };
    const stillAlive = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        child.kill("SIGINT");
        settle(new Error("block timeout reached"));
      }, idleMs);
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      into.push(chunk);
      stillAlive();
    };
    child.stdout.on("data", collect(stdout));
    child.stderr.on("data", collect(stderr));
    stillAlive();
    child.on("error", (error) => settle(error));
    child.on("close", (code) => settle(null, code));
    // A helper git started (git-remote-http) can outlive it holding the pipes: its exit decides.
    child.on("exit", (code) => setTimeout(() => settle(null, code), 50).unref());
  });
}

/**
 * A URL as it may be shown: credentials (`https://user:token@host/...`) removed, so a token
 * the worker embeds for cloning never reaches a log or an error.
 */
export function displayUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
}

/** git's own message (its last lines), without any credentials of url. */
export function gitFailure(error: unknown, url: string): string {
  const text = error instanceof Error ? error.message : String(error);
  const credentials = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(url)?.[1];
  const scrubbed = credentials ? text.split(credentials).join("***") : text;
  return scrubbed.trim().split("\n").slice(-4).join("\n");
}

export const FULL_SHA = /^[0-9a-f]{40}$/;

/**
 * Refuses what git would misread (a leading dash is an option) and local paths that do not exist;
 * returns the URL with a relative path made absolute (git runs inside the checkout, not here).
 */
export function checkRepoUrl(url: string): string {
  if (!url.trim()) throw usageError("no recipe URL or path given");
  if (url.startsWith("-")) throw usageError(`not a git URL or path: ${url}`);
  const local = isAbsolute(url) || url.startsWith("./") || url.startsWith("../");
  if (!local) return url;
  if (!existsSync(url)) throw usageError(`recipe repository not found: ${url}`);
  return resolve(url);
}
