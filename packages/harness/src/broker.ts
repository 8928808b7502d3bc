import { randomBytes } from "node:crypto";
import { chmod, chown, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { infraError } from "@taster/core";
import type { OpName, Ops, RunContext } from "@taster/testkit";

/** What the broker may do on the run's one stack; implemented over @taster/swarm by the orchestrator. */
export interface BrokerBackend {
  exec(service: string, argv: string[], timeoutMs?: number): Promise<Ops["exec"]["res"]>;
  http(req: Ops["http"]["req"]): Promise<Ops["http"]["res"]>;
  services(): Promise<Ops["services"]["res"]>;
  labels(service: string): Promise<Ops["labels"]["res"]>;
  backupArtifact(): Ops["backupArtifact"]["res"];
}

/** A credential for one sandboxed process; revoked when that process's tier is over. */
export interface BrokerGrant {
  token: string;
  revoke(): void;
}

/** Where the broker listens: a private directory of the sandbox slot, and who may connect. */
export interface BrokerOwner {
  dir: string;
  uid: number;
  gid: number;
}

export interface Broker {
  /** The unix socket the sandboxed tests connect to (mode 0600, owned by the slot's uid). */
  socketPath: string;
  /**
   * A token for one sandboxed jest process. With a gate, its calls wait until the gate resolves
   * (the tier's op is done) and are refused if it rejects: assertions can start while the op runs.
   */
  issue(opts?: { gate?: Promise<unknown> }): BrokerGrant;
  /** Run-wide JSON state shared by hooks and assertions (also readable by the orchestrator). */
  state: Map<string, unknown>;
  /** Every operation asked of the broker, for the run log. */
  onCall?: (op: string, detail: string) => void;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Refusal(413, "request too large"));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {});
      } catch {
        reject(new Refusal(400, "body is not JSON"));
      }
    });
    req.on("error", reject);
  });
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === "string");

/** sun_path holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;

/**
 * A per-run HTTP broker on a unix socket: the only door from the sandboxed tests (which have no
 * network) to the deployment. Only the slot's uid (and root) can connect; it also checks a random
 * bearer token and only names services of this run's stack; there is no operation that deploys,
 * removes, or reaches another stack or the host.
 */
export async function startBroker(
  context: () => RunContext,
  backend: BrokerBackend,
  owner: BrokerOwner,
): Promise<Broker> {
  const grants = new Map<string, { gate?: Promise<unknown> }>();
  const state = new Map<string, unknown>();
  const broker: Broker = {
    socketPath: join(owner.dir, "broker.sock"),
    issue: (opts = {}) => {
      const token = randomBytes(32).toString("hex");
      // A rejected gate must not surface as an unhandled rejection before anyone calls.
      opts.gate?.catch(() => undefined);
      grants.set(token, opts);
      return { token, revoke: () => grants.delete(token) };
    },
    state,
    close: async () => {},
  };

  const ownService = (name: unknown): string => {
    const services = context().services;
    if (typeof name !== "string" || !services.includes(name)) {
      throw new Refusal(
        403,
        `service '${String(name)}' is not part of this run's stack (${services.join(", ")})`,
      );
    }
    return name;
  };

  const handlers: { [K in OpName]: (body: Record<string, unknown>) => Promise<Ops[K]["res"]> } = {
    exec: async (b) => {
      if (!isStringArray(b.argv)) throw new Refusal(400, "argv must be a non-empty array of strings");
      const timeout = typeof b.timeoutMs === "number" ? b.timeoutMs : undefined;
      return backend.exec(ownService(b.service), b.argv, timeout);
    },
    http: async (b) => {
      if (typeof b.path !== "string" || !b.path.startsWith("/"))
        throw new Refusal(400, "path must start with /");
      const service = b.service === undefined ? context().settings.healthService : ownService(b.service);
      const port = typeof b.port === "number" ? b.port : context().settings.healthPort;
      const timeoutMs = typeof b.timeoutMs === "number" ? b.timeoutMs : context().settings.httpTimeoutMs;
      // The proxy's Host header goes only to the serving service (a test's own target gets none).
      const hostHeader = b.service === undefined ? context().settings.healthHost : undefined;
      return backend.http({ path: b.path, service, port, timeoutMs, ...(hostHeader ? { hostHeader } : {}) });
    },
    services: async () => backend.services(),
    labels: async (b) =>
      backend.labels(b.service === undefined ? context().appService : ownService(b.service)),
    backupArtifact: async () => backend.backupArtifact(),
    stateGet: async (b) => {
      if (typeof b.key !== "string") throw new Refusal(400, "key must be a string");
      return { value: state.get(b.key) ?? null };
    },
    stateSet: async (b) => {
      if (typeof b.key !== "string") throw new Refusal(400, "key must be a string");
      state.set(b.key, JSON.parse(JSON.stringify(b.value ?? null)));
      return { ok: true as const };
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      // 256-bit random tokens: a map lookup leaks nothing usable through timing.
      const token = /^Bearer ([0-9a-f]{64})$/.exec(req.headers.authorization ?? "")?.[1];
      const grant = token ? grants.get(token) : undefined;
      if (!grant) throw new Refusal(401, "bad, missing or revoked broker token");
      const op = /^\/v1\/([A-Za-z]+)$/.exec(req.url ?? "")?.[1];
      if (req.method !== "POST" || !op || !Object.hasOwn(handlers, op)) {
        throw new Refusal(404, `no such operation: ${req.method} ${req.url}`);
      }
      const body = (await readBody(req)) as Record<string, unknown>;
      if (grant.gate) {
        await grant.gate.catch(() => {
          throw new Refusal(409, "the tier's op failed: nothing to assert against");
        });
      }
      broker.onCall?.(op, op === "exec" ? `${String(body.service)}: ${JSON.stringify(body.argv)}` : "");
      send(200, await handlers[op as OpName](body));
    } catch (error) {
      const status = error instanceof Refusal ? error.status : 500;
      send(status, { error: (error as Error).message });
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await listenPrivately(server, broker.socketPath, owner);
  broker.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return broker;
}

/** Binds the socket, then hands it to the slot's uid alone (until then only root may connect). */
async function listenPrivately(server: Server, path: string, owner: BrokerOwner): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
    throw infraError(`the broker socket path ${path} is longer than ${MAX_SOCKET_PATH} bytes`);
  await rm(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  await chmod(path, 0o600);
  await chown(path, owner.uid, owner.gid);
}
