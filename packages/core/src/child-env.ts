/**
 * The environment and the program of every child process Taster starts. A child never inherits
 * Taster's own environment (tokens, webhook secrets, Redis URL): it gets a fixed PATH, what its
 * caller passes explicitly, and the few operator variables named in `passThrough`. Programs are
 * found once in the system's directories, never through a PATH a recipe or a caller could set.
 */
import { accessSync, constants, statSync } from "node:fs";
import { join } from "node:path";
import { infraError } from "./errors";

/** Where Taster looks for the programs it runs (docker, git, unshare…), and every child's PATH. */
export const TRUSTED_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const found = new Map<string, string>();

/** The absolute path of `name` in TRUSTED_PATH (looked up once per process). */
export function trustedBinary(name: string): string {
  const known = found.get(name);
  if (known) return known;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw infraError(`not a program name: ${name}`);
  for (const dir of TRUSTED_PATH.split(":")) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) {
      found.set(name, candidate);
      return candidate;
    }
  }
  throw infraError(`${name} is not installed in ${TRUSTED_PATH}`);
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * A child's whole environment: `PATH=TRUSTED_PATH`, the operator's values of `passThrough` (when
 * set in Taster's own environment), then `vars`. Undefined values are left out.
 */
export function childEnv(
  vars: Record<string, string | undefined> = {},
  passThrough: readonly string[] = [],
): Record<string, string> {
  const env: Record<string, string> = { PATH: TRUSTED_PATH };
  for (const key of passThrough) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(vars)) if (value !== undefined) env[key] = value;
  return env;
}

/** Names that choose what a program loads, runs, trusts or where it connects, whatever its value. */
const STEERING_NAMES = new Set([
  "PATH",
  "HOME",
  "SHELL",
  "ENV",
  "BASH_ENV",
  "IFS",
  "CDPATH",
  "GLOBIGNORE",
  "PS4",
  "SHELLOPTS",
  "BASHOPTS",
  "TMPDIR",
  "TMP",
  "TEMP",
  "EDITOR",
  "VISUAL",
  "PAGER",
  "BROWSER",
  "GCONV_PATH",
  "GLIBC_TUNABLES",
  "LOCPATH",
  "NLSPATH",
  "HOSTALIASES",
  "LOCALDOMAIN",
  "RES_OPTIONS",
  "RESOLV_HOST_CONF",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "OPENSSL_CONF",
  "OPENSSL_MODULES",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "ALL_PROXY",
  "NO_PROXY",
  "GODEBUG",
  "GOGC",
  "GOMAXPROCS",
  "GOMEMLIMIT",
  "GOTRACEBACK",
  "GOCOVERDIR",
  "GOFLAGS",
  "GORACE",
  "PERLLIB",
  "RUBYOPT",
  "RUBYLIB",
  "JAVA_TOOL_OPTIONS",
  "_JAVA_OPTIONS",
  "KRB5_CONFIG",
  "KRB5CCNAME",
]);

/** Prefixes of the same kind (the dynamic loader, language runtimes, Docker/git/ssh, Taster itself). */
const STEERING_PREFIXES = [
  "LD_",
  "DYLD_",
  "NODE_",
  "NPM_",
  "DOCKER_",
  "COMPOSE_",
  "BUILDKIT_",
  "BUILDX_",
  "GIT_",
  "SSH_",
  "TASTER_",
  "XDG_",
  "PYTHON",
  "PERL5",
  "OTEL_",
  "MALLOC_",
];

/** abra reads COMPOSE_FILE from the app env: it is recipe data, never passed to a child as such. */
const RECIPE_NAMES = new Set(["COMPOSE_FILE"]);

/**
 * Whether a variable of this name would steer a process that sees it (case-insensitive: some
 * programs read both `http_proxy` and `HTTP_PROXY`). Recipe env keys with such names are refused.
 */
export function isSteeringKey(key: string): boolean {
  const upper = key.toUpperCase();
  if (RECIPE_NAMES.has(upper)) return false;
  return STEERING_NAMES.has(upper) || STEERING_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

/** The refused names and prefixes, for messages and docs. */
export function steeringKeysDescription(): string {
  return [
    ...[...STEERING_NAMES].sort(),
    ...STEERING_PREFIXES.map((prefix) => `${prefix}*`),
    "(COMPOSE_FILE is allowed)",
  ].join(", ");
}
