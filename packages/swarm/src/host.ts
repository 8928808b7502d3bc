import { execFile } from "node:child_process";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  childEnv,
  createLogger,
  infraError,
  isSteeringKey,
  tolerated,
  trustedBinary,
  usageError,
} from "@taster/core";
import Dockerode from "dockerode";
import { SshTunnel } from "./ssh";

const swarmLog = createLogger("swarm");

export interface TlsPaths {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface ConnectOptions {
  knownHostsPath?: string;
  privateKeyPath?: string;
  tls?: TlsPaths;
}

export interface CliOptions {
  cwd?: string;
  /** Variables for compose interpolation (the app env): the CLI's environment holds these and nothing of Taster's. */
  env?: Record<string, string>;
  input?: string;
}

/** A Docker (swarm manager) host: the API through dockerode, the Docker CLI for stack config/deploy. */
export interface Host {
  url: string;
  docker: Dockerode;
  cli(args: string[], opts?: CliOptions): Promise<{ stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/** What the Docker CLI needs in its environment to talk to the same host as `docker`. */
interface CliTarget {
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function connectHost(url: string, opts: ConnectOptions = {}): Promise<Host> {
  const parsed = parseHostUrl(url);
  if (parsed.protocol === "unix:") {
    const docker = new Dockerode({ socketPath: parsed.pathname });
    return makeHost(url, docker, { env: { DOCKER_HOST: url }, close: async () => {} });
  }
  if (parsed.protocol === "tcp:") return connectTcp(url, parsed, opts.tls);
  if (parsed.protocol === "ssh:") return connectSsh(url, parsed, opts);
  throw usageError(
    `unsupported Docker host URL ${url}`,
    "use unix:///path, tcp://host:port or ssh://user@host:port",
  );
}

function parseHostUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw usageError(
      `not a Docker host URL: ${url}`,
      "use unix:///path, tcp://host:port or ssh://user@host:port",
    );
  }
}

async function connectTcp(url: string, parsed: URL, tls?: TlsPaths): Promise<Host> {
  const port = parsed.port ? Number(parsed.port) : tls ? 2376 : 2375;
  if (!tls) {
    const docker = new Dockerode({ protocol: "http", host: parsed.hostname, port });
    return makeHost(url, docker, { env: { DOCKER_HOST: url }, close: async () => {} });
  }
  const { readFile } = await import("node:fs/promises");
  const read = (path?: string) => (path ? readFile(path) : Promise.resolve(undefined));
  const [ca, cert, key] = await Promise.all([read(tls.ca), read(tls.cert), read(tls.key)]);
  const docker = new Dockerode({ protocol: "https", host: parsed.hostname, port, ca, cert, key });
  return makeHost(url, docker, await tlsCliTarget(url, tls));
}

/** The CLI wants one directory holding ca.pem/cert.pem/key.pem: link the given files into one. */
async function tlsCliTarget(url: string, tls: TlsPaths): Promise<CliTarget> {
  const dir = await mkdtemp(join(tmpdir(), "taster-tls-"));
  const links: [string | undefined, string][] = [
    [tls.ca, "ca.pem"],
    [tls.cert, "cert.pem"],
    [tls.key, "key.pem"],
  ];
  for (const [source, name] of links) if (source) await symlink(resolve(source), join(dir, name));
  return {
    env: { DOCKER_HOST: url, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: dir },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function connectSsh(url: string, parsed: URL, opts: ConnectOptions): Promise<Host> {
  // Without explicit paths, the files OpenSSH itself uses — and that the deploy recipe mounts into
  // the worker (/root/.ssh/id_ed25519, /root/.ssh/known_hosts), so `taster worker` reaches SSH hosts.
  const home = process.env.HOME || homedir();
  const tunnel = await SshTunnel.open(parsed, {
    knownHostsPath: opts.knownHostsPath ?? join(home, ".ssh", "known_hosts"),
    privateKeyPath: opts.privateKeyPath ?? join(home, ".ssh", "id_ed25519"),
  });
  // protocol http + a custom agent: every request rides a dial-stdio channel of the one connection.
  const docker = new Dockerode({
    protocol: "http",
    host: "docker",
    port: 2375,
    agent: tunnel.agent,
  } as never);
  return makeHost(url, docker, { env: { DOCKER_HOST: tunnel.dockerHost }, close: () => tunnel.close() });
}

function makeHost(url: string, docker: Dockerode, target: CliTarget): Host {
  return {
    url,
    docker,
    cli: (args, opts) => runDockerCli(args, target.env, opts),
    close: () => target.close(),
  };
}

async function runDockerCli(
  args: string[],
  targetEnv: Record<string, string>,
  opts: CliOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const docker = trustedBinary("docker");
  // A private, empty HOME and Docker config per call: no contexts, credential helpers or plugins
  // of the operator's, and nothing a previous call could have left.
  const home = await mkdtemp(join(tmpdir(), "taster-cli-"));
  try {
    const env = cliEnvironment(opts.env ?? {}, targetEnv, home);
    return await execDocker(docker, args, env, opts);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * The CLI's whole environment: the app env (which compose interpolation reads; recipe env loading
 * refuses names that steer a process, and they are refused here too), then what the CLI itself
 * needs. Never Taster's own environment, so `${TASTER_GITHUB_TOKEN}` in a compose file is unset.
 */
export function cliEnvironment(
  appEnv: Record<string, string>,
  targetEnv: Record<string, string>,
  home: string,
): Record<string, string> {
  const steering = Object.keys(appEnv).filter(isSteeringKey);
  if (steering.length) throw usageError(`refusing to pass ${steering.join(", ")} to the Docker CLI`);
  return childEnv({ ...appEnv, HOME: home, DOCKER_CONFIG: join(home, ".docker"), ...targetEnv });
}

function execDocker(
  docker: string,
  args: string[],
  env: Record<string, string>,
  opts: CliOptions,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      docker,
      args,
      { cwd: opts.cwd, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const failure = infraError(
            `docker ${args[0] ?? ""} ${args[1] ?? ""} failed: ${stderr.trim() || error.message}`,
            error,
          );
          Object.assign(failure, { stdout, stderr });
          reject(failure);
        } else resolvePromise({ stdout, stderr });
      },
    );
    // The CLI may exit before it reads its input (it refused the compose file): writing then fails
    // with EPIPE, and its exit status and stderr above are what says why.
    child.stdin?.on(
      "error",
      tolerated("writing the Docker CLI's input", (line) => swarmLog.debug(line)),
    );
    child.stdin?.end(opts.input ?? "");
  });
}
