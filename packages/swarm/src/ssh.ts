import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { infraError, retry } from "@taster/core";
import { Client, type ClientChannel } from "ssh2";
import { knownHostsName, readKnownHosts, verifyHostKey } from "./known-hosts";

const DIAL_STDIO = "docker system dial-stdio";
// OpenSSH allows 10 sessions per connection (MaxSessions): stay under it, queue the rest.
const MAX_CHANNELS = 9;
// API requests reuse up to this many keep-alive channels (opening one starts a remote
// `docker` process, ~0.1–0.3 s); the rest of MAX_CHANNELS is for CLI calls and streams.
const API_CHANNELS = 6;
const IDLE_API_CHANNELS = 2;
// sshd frees a session slot a moment after the channel closed: a refused open is retried.
const OPEN_RETRIES = 20;
const OPEN_RETRY_PAUSE_MS = 100;

export interface SshOptions {
  knownHostsPath: string;
  privateKeyPath: string;
}

/**
 * One SSH connection to a Docker host, shared by every API request (through `agent`) and every
 * Docker CLI call (through a private local unix socket that forwards to the same connection).
 * Each socket is one `docker system dial-stdio` channel; API sockets are kept alive and reused;
 * the connection itself is never re-made.
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
    const channel = await execWithRetry(client);
    channel.once("close", () => owned.release());
    return channel;
  } catch (error) {
    owned.release();
    throw error;
  }
}

function execWithRetry(client: Client): Promise<ClientChannel> {
  const open = () =>
    new Promise<ClientChannel>((resolve, reject) => {
      client.exec(DIAL_STDIO, (error, opened) => (error ? reject(error) : resolve(opened)));
    });
  return retry(open, {
    attempts: OPEN_RETRIES + 1,
    minMs: OPEN_RETRY_PAUSE_MS,
    maxMs: OPEN_RETRY_PAUSE_MS,
    retryIf: (error) => /Channel open failure/i.test(error.message),
  });
}

/**
 * An http.Agent whose sockets are dial-stdio channels on the one SSH connection. The socket is
 * handed over synchronously (and connected when a channel slot frees up), so the agent's own
 * maxSockets/keep-alive pooling works: excess requests queue and reuse idle channels.
 */
function channelAgent(client: Client): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: API_CHANNELS, maxFreeSockets: IDLE_API_CHANNELS });
  const create = () => new LazyChannel(openDialStdio(client));
  (agent as unknown as { createConnection: typeof create }).createConnection = create;
  return agent;
}

/** A Duplex over a channel that is still being opened; writes wait for it, reads follow it. */
class LazyChannel extends Duplex {
  private channel: ClientChannel | undefined;
  private readonly opened: Promise<ClientChannel>;

  constructor(opening: Promise<ClientChannel>) {
    super({ allowHalfOpen: true });
    this.opened = opening.then((channel) => {
      this.attach(channel);
      return channel;
    });
    this.opened.catch((error: Error) =>
      this.destroy(infraError(`cannot open a Docker channel over SSH: ${error.message}`, error)),
    );
  }

  private attach(channel: ClientChannel): void {
    this.channel = channel;
    channel.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) channel.pause();
    });
    channel.on("end", () => this.push(null));
    channel.on("close", () => this.destroy());
    channel.on("error", (error: Error) => this.destroy(error));
  }

  override _read(): void {
    this.channel?.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.opened.then(
      (channel) => channel.write(chunk, encoding, done),
      (error: Error) => done(error),
    );
  }

  override _final(done: (error?: Error | null) => void): void {
    this.opened.then(
      (channel) => {
        channel.end();
        done();
      },
      (error: Error) => done(error),
    );
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // A paused channel never ends, and one that never ends never reports `close` (which frees
    // its slot): drain it while it closes.
    this.channel?.resume();
    this.channel?.close();
    done(error);
  }

  // What http.Agent calls on pooled sockets: a channel has no TCP options or timers of its own,
  // and the SSH connection keeps the process alive anyway.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

/** A local unix socket whose every connection is piped to a fresh dial-stdio channel. */
function forwardUnixSocket(client: Client, path: string): Promise<Server> {
  const server = createServer((local: Socket) => {
    openDialStdio(client).then(
      (channel) => {
        // When the CLI goes, drain and close the channel: a paused channel never reports
        // `close`, and `close` is what frees its slot.
        const closeChannel = () => {
          channel.resume();
          channel.close();
        };
        if (local.destroyed) return closeChannel();
        local.pipe(channel).pipe(local);
        local.on("close", closeChannel);
        channel.on("error", () => local.destroy());
        channel.on("close", () => local.destroy());
      },
      () => local.destroy(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve(server));
  });
}
