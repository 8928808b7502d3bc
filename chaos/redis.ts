/**
 * A private, throwaway redis-server for one chaos scenario: a free loopback port, a password,
 * appendonly like production — so a scenario may stop, start and restart "Taster's Redis" without
 * touching the lab's, which every other test on the machine shares.
 *
 * Created synchronously (a Scenario's `world` options are read synchronously by the scorecard) and
 * removed — process and data directory — by `remove()`, by the next `PrivateRedis.create()` of the
 * same owner, or at the latest when the chaos process exits.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const live = new Set<PrivateRedis>();
let exitHookInstalled = false;

export class PrivateRedis {
  /** `redis://:<password>@127.0.0.1:<port>` — holds the password: never print it. */
  readonly url: string;
  readonly port: number;
  private readonly dir: string;

  private constructor(dir: string, port: number, password: string) {
    this.dir = dir;
    this.port = port;
    this.url = `redis://:${password}@127.0.0.1:${port}`;
  }

  /** Starts a fresh server and returns once it has forked (it answers within milliseconds). */
  static create(): PrivateRedis {
    installExitHook();
    const dir = mkdtempSync(join(tmpdir(), "taster-chaos-redis-"));
    const port = freePortSync();
    const password = randomBytes(18).toString("hex");
    // The password lives in a private file, never on a command line (where `ps` shows it).
    writeFileSync(
      join(dir, "redis.conf"),
      [
        `port ${port}`,
        "bind 127.0.0.1",
        "daemonize yes",
        `dir ${dir}`,
        `pidfile ${join(dir, "redis.pid")}`,
        `logfile ${join(dir, "redis.log")}`,
        "appendonly yes",
        'save ""',
        `requirepass ${password}`,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const redis = new PrivateRedis(dir, port, password);
    live.add(redis);
    redis.startSync();
    return redis;
  }

  /** Whether something accepts connections on the port now. */
  answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  }

  /** Stops the server the way a service manager does (SIGTERM: it flushes the append-only file). */
  async stop(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    signal(pid, "SIGTERM");
    await until(() => !alive(pid), 10_000, "redis-server did not stop within 10 s");
  }

  /** Starts it again on the same port, with the same data, and waits until it accepts connections. */
  async start(): Promise<void> {
    this.startSync();
    await until(() => this.answers(), 10_000, "redis-server did not come back within 10 s");
  }

  async restart(downMs: number): Promise<void> {
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.start();
  }

  /** Kills the server and deletes its data. Idempotent, synchronous (it also runs at exit). */
  remove(): void {
    const pid = this.pid();
    if (pid !== undefined) signal(pid, "SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  private startSync(): void {
    if (this.pid() !== undefined) return;
    execFileSync("redis-server", [join(this.dir, "redis.conf")], { stdio: "ignore" });
  }

  /** The server's pid while it runs. */
  private pid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir, "redis.pid"), "utf8").trim());
      return pid > 0 && alive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }
}

const byOwner = new Map<string, PrivateRedis>();

/**
 * One private Redis per owner (a scenario) at a time: asking for a new one removes the previous,
 * whose world the scorecard has closed by then.
 */
export function freshRedisFor(owner: string): PrivateRedis {
  byOwner.get(owner)?.remove();
  const redis = PrivateRedis.create();
  byOwner.set(owner, redis);
  return redis;
}

/** The owner's current private Redis (the one its world was started on). */
export function redisOf(owner: string): PrivateRedis {
  const redis = byOwner.get(owner);
  if (!redis) throw new Error(`no private Redis was started for ${owner}`);
  return redis;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const redis of [...live]) redis.remove();
  });
}

/** Running, and not a zombie: this machine's init does not always reap daemons that exited. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

/** A free loopback port, found synchronously by a short-lived node process. */
export function freePortSync(): number {
  const script =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  return Number(execFileSync(process.execPath, ["-e", script], { env: {} }).toString().trim());
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(what);
    await new Promise((r) => setTimeout(r, 100));
  }
}
