import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { usageError } from "@taster/core";
import { type SimpleGit, simpleGit } from "simple-git";

// TLS trust settings of the operator's environment are kept; every other GIT_* variable (GIT_DIR,
// GIT_INDEX_FILE, ... when run from inside a hook) and editor/pager programs are dropped, and
// simple-git refuses to pass them on anyway.
const PASSED_THROUGH = ["GIT_SSL_CAINFO", "GIT_SSL_CAPATH"];
const DROPPED = /^(git_.*|editor|visual|pager|prefix|ssh_askpass)$/i;

function gitEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && (!DROPPED.test(key) || PASSED_THROUGH.includes(key))) env[key] = value;
  }
  return { ...env, GIT_TERMINAL_PROMPT: "0" };
}

/** A git that never prompts for credentials and gives up when a remote goes silent. */
export function gitIn(dir: string | undefined, timeoutMs = 120_000): SimpleGit {
  return simpleGit({
    ...(dir ? { baseDir: dir } : {}),
    timeout: { block: timeoutMs },
    allowEnvironment: [...PASSED_THROUGH, "GIT_TERMINAL_PROMPT"],
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
