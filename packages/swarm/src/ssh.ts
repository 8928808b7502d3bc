import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { infraError } from "@taster/core";
import { Client, type ClientChannel } from "ssh2";
import { knownHostsName, readKnownHosts, verifyHostKey } from "./known-hosts";

const DIAL_STDIO = "docker system dial-stdio";
// OpenSSH allows 10 sessions per connection (MaxSessions): stay under it, queue the rest.
const MAX_CHANNELS = 8;

export interface SshOptions {
  knownHostsPath: string;
  privateKeyPath: string;
}

/**
 * One SSH connection to a Docker host, shared by every API request (through `agent`) and every
 * Docker CLI call (through a private local unix socket that forwards to the same connection).
 * Each request is one `docker system dial-stdio` channel; the connection itself is never re-made.
 */
export class SshTunnel {
  private constructor(
    private readonly client: Client,
    readonly agent: Agent,
    private readonly server: Server,
    private readonly socketDir: string,
  ) {}

  /** `unix://` address of the local socket the Docker CLI can use as DOCKER_HOST. */
  get dockerHost(): string {
    return `unix://${join(this.socketDir, "docker.sock")}`;
  }

  static async open(url: URL, options: SshOptions): Promise<SshTunnel> {
    const client = await connect(url, options);
    const agent = channelAgent(client);
    const socketDir = await mkdtemp(join(tmpdir(), "taster-ssh-"));
    await chmod(socketDir, 0o700);
    const server = await forwardUnixSocket(client, join(socketDir, "docker.sock"));
    return new SshTunnel(client, agent, server, socketDir);
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.client.end();
    await rm(this.socketDir, { recursive: true, force: true });
  }
}

async function connect(url: URL, options: SshOptions): Promise<Client> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port ? Number(url.port) : 22;
  const name = knownHostsName(host, port);
  const known = await readKnownHosts(options.knownHostsPath);
  const privateKey = await readFile(options.privateKeyPath).catch((error: unknown) => {
    throw infraError(`cannot read SSH private key ${options.privateKeyPath}`, error);
  });
  let refusal: string | undefined;
  const client = new Client();
  return new Promise((resolve, reject) => {
    client.once("ready", () => resolve(client));
    client.once("error", (error) => {
      reject(
        refusal
          ? infraError(refusal)
          : infraError(
              `SSH connection to ${name} as ${url.username || "root"} failed: ${error.message}`,
              error,
            ),
      );
    });
    client.connect({
      host,
      port,
      username: decodeURIComponent(url.username) || "root",
      privateKey,
      readyTimeout: 20_000,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer) => {
        const verdict = verifyHostKey(known, name, key);
        if (verdict === "unknown") {
          refusal = `SSH host ${name} is not in ${options.knownHostsPath}: refusing to connect to an unverified host`;
        } else if (verdict === "changed") {
          refusal = `SSH host key for ${name} does not match ${options.knownHostsPath}: the host key changed (or someone is in the middle); refusing to connect`;
        }
        return verdict === "known";
      },
    });
  });
}

/**
 * Counts open channels on one connection. A slot is freed only when the server has confirmed the
 * channel closed, so a burst of requests never asks sshd for more sessions than it allows.
 */
class ChannelSlots {
  private open = 0;
  private readonly waiting: (() => void)[] = [];

  async acquire(): Promise<void> {
    if (this.open < MAX_CHANNELS) {
      this.open++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.open--;
  }
}

const slotsByClient = new WeakMap<Client, ChannelSlots>();

async function openDialStdio(client: Client): Promise<ClientChannel> {
  const owned = slotsByClient.get(client) ?? new ChannelSlots();
  slotsByClient.set(client, owned);
  await owned.acquire();
  try {
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      client.exec(DIAL_STDIO, (error, opened) => (error ? reject(error) : resolve(opened)));
    });
    channel.once("close", () => owned.release());
    return channel;
  } catch (error) {
    owned.release();
    throw error;
  }
}

/** An http.Agent whose sockets are dial-stdio channels on the one SSH connection. */
function channelAgent(client: Client): Agent {
  const agent = new Agent();
  const create = (_options: unknown, done: (error: Error | null, socket?: Duplex) => void) => {
    openDialStdio(client).then(
      (channel) => done(null, channel),
      (error: Error) => done(infraError(`cannot open a Docker channel over SSH: ${error.message}`, error)),
    );
    return undefined;
  };
  (agent as unknown as { createConnection: typeof create }).createConnection = create;
  return agent;
}

/** A local unix socket whose every connection is piped to a fresh dial-stdio channel. */
function forwardUnixSocket(client: Client, path: string): Promise<Server> {
  const server = createServer((local: Socket) => {
    openDialStdio(client).then(
      (channel) => {
        local.pipe(channel).pipe(local);
        local.on("error", () => channel.close());
        channel.on("error", () => local.destroy());
        channel.on("close", () => local.end());
      },
      () => local.destroy(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve(server));
  });
}
