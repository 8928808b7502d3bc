import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { childEnv, trustedBinary, usageError } from "@taster/core";
import { type SimpleGit, simpleGit } from "simple-git";

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

/** The whole environment of a git child (exported for git calls made without simple-git). */
export function gitEnvironment(): Record<string, string> {
  // LC_ALL=C: the messages fetch errors are matched against are git's untranslated ones.
  return childEnv({ GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" }, [...OPERATOR, ...GIT_SETTINGS]);
}

/** A git that never prompts for credentials and gives up when a remote goes silent. */
export function gitIn(dir: string | undefined, timeoutMs = 120_000): SimpleGit {
  return simpleGit({
    ...(dir ? { baseDir: dir } : {}),
    binary: trustedBinary("git"),
    timeout: { block: timeoutMs },
    allowEnvironment: [...GIT_SETTINGS, "GIT_TERMINAL_PROMPT"],
  }).env(gitEnvironment());
}

/**
 * A URL as it may be shown: credentials (`https://user:token@host/...`) removed, so a token
 * the worker embeds for cloning never reaches a log or an error.
 */
export function displayUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
}

/** git's own message, without simple-git's wrapping and without any credentials of url. */
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
