import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { infraError } from "@taster/core";

/** One known_hosts line: which host patterns it covers and the key blob it pins. */
interface KnownHost {
  patterns: string[];
  keyType: string;
  key: Buffer;
}

/**
 * The name a host has in known_hosts: `host` on port 22, `[host]:port` otherwise — the
 * OpenSSH convention, so files written by `ssh-keyscan`/`ssh` work unchanged.
 */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export async function readKnownHosts(path: string): Promise<KnownHost[]> {
  const text = await readFile(path, "utf8").catch((error: unknown) => {
    throw infraError(`cannot read known_hosts file ${path}`, error);
  });
  const entries: KnownHost[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith("#") || fields[0].startsWith("@")) continue;
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) continue;
    entries.push({ patterns: hosts.split(","), keyType, key: Buffer.from(key, "base64") });
  }
  return entries;
}

function matches(pattern: string, name: string): boolean {
  if (!pattern.startsWith("|1|")) return pattern === name;
  // Hashed entry: |1|base64(salt)|base64(HMAC-SHA1(salt, name)).
  const [, , salt, hash] = pattern.split("|");
  if (!salt || !hash) return false;
  return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
}

export type HostKeyVerdict = "known" | "unknown" | "changed";

/** Whether `key` (the raw host key blob the server presented) is the one pinned for `name`. */
export function verifyHostKey(entries: KnownHost[], name: string, key: Buffer): HostKeyVerdict {
  const pinned = entries.filter((entry) => entry.patterns.some((pattern) => matches(pattern, name)));
  if (pinned.length === 0) return "unknown";
  return pinned.some((entry) => entry.key.equals(key)) ? "known" : "changed";
}
