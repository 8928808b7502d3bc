/**
 * Sandbox slots: every run that executes test code leases one for its whole life, and its tests
 * run as the slot's own uid and gid (base + index). Two concurrent runs never share a uid, so
 * neither can read the other's files, signal its processes or open its broker socket.
 *
 * A slot's lease is an abstract unix socket named after its uid, held open by the leasing process:
 * the kernel gives each name to one process at a time, across every Taster process on the machine
 * (one network namespace), and frees it when that process exits, even by kill -9. No lock files,
 * nothing stale to clean up.
 */
import { chmod, chown, lstat, mkdir, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, sep } from "node:path";
import { readVariable } from "@taster/config";
import { createLogger, infraError, tolerated } from "@taster/core";

const harnessLog = createLogger("harness");

export interface SandboxSlot {
  index: number;
  uid: number;
  gid: number;
  /** A short private directory (0700, the slot's uid) for the run's broker socket. */
  dir: string;
  /** The run's own directory: closed to other users; the slot's group may only traverse it. */
  runDir: string;
  /** Directories between runDir and this one may be made traversable (o+x) for the slot. */
  within: string;
  release(): Promise<void>;
}

/**
 * TASTER_SANDBOX_UID_BASE and TASTER_SANDBOX_SLOTS as the one configuration (@taster/config) checks
 * them; slots must be ≥ the worker's capacity.
 */
export function slotConfig(env: NodeJS.ProcessEnv = process.env): { base: number; slots: number } {
  return {
    base: readVariable("TASTER_SANDBOX_UID_BASE", env) as number,
    slots: readVariable("TASTER_SANDBOX_SLOTS", env) as number,
  };
}

/** Where the slots' private directories live: root-owned, others may only traverse it. */
const slotsRoot = () => join(tmpdir(), "taster-sandbox");

/**
 * Leases the first free slot for the run whose directory is `runDir` and closes that directory to
 * everyone but root and the slot's group (traverse only). Throws when every slot is taken.
 */
export async function acquireSlot(runDir: string, within = runDir): Promise<SandboxSlot> {
  const { base, slots } = slotConfig();
  for (let index = 0; index < slots; index++) {
    const uid = base + index;
    const lease = await tryLease(uid);
    if (!lease) continue;
    try {
      return await setUpSlot(index, uid, runDir, within, lease);
    } catch (error) {
      lease.close();
      throw error;
    }
  }
  throw infraError(
    `all ${slots} sandbox slots (uids ${base}–${base + slots - 1}) are leased by other runs: set TASTER_SANDBOX_SLOTS to at least the number of runs this machine runs at once`,
  );
}

function tryLease(uid: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen({ path: `\0taster-sandbox-uid-${uid}` }, () => {
      server.unref();
      resolve(server);
    });
  });
}

async function setUpSlot(
  index: number,
  uid: number,
  runDir: string,
  within: string,
  lease: Server,
): Promise<SandboxSlot> {
  // A previous holder killed with -9 may have left test processes running as this uid.
  await killProcessesOf(uid);
  const dir = await freshPrivateDir(uid);
  const runMode = (await lstat(runDir)).mode & 0o7777;
  await chown(runDir, process.getuid?.() ?? 0, uid);
  await chmod(runDir, (runMode & 0o700) | 0o010);
  let released = false;
  return {
    index,
    uid,
    gid: uid,
    dir,
    runDir,
    within,
    release: async () => {
      if (released) return;
      released = true;
      await killProcessesOf(uid);
      await rm(dir, { recursive: true, force: true });
      // If the run's directory outlives the run, the slot's next holder must not get into it.
      // (Usually it is gone already: then there is nothing to close off.)
      const say = (line: string) => harnessLog.debug(line);
      await chown(runDir, process.getuid?.() ?? 0, process.getgid?.() ?? 0).catch(
        tolerated("chown of the run dir", say),
      );
      await chmod(runDir, 0o700).catch(tolerated("chmod of the run dir", say));
      await new Promise<void>((done) => lease.close(() => done()));
    },
  };
}

async function freshPrivateDir(uid: number): Promise<string> {
  const root = slotsRoot();
  await mkdir(root, { recursive: true, mode: 0o711 });
  const info = await lstat(root);
  if (!info.isDirectory() || info.uid !== (process.getuid?.() ?? 0) || (info.mode & 0o022) !== 0) {
    throw infraError(
      `${root} must be a directory owned by this process's user and writable by no one else (found mode ${(info.mode & 0o7777).toString(8)}, uid ${info.uid})`,
    );
  }
  await chmod(root, 0o711);
  const dir = join(root, String(uid));
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  await chown(dir, uid, uid);
  return dir;
}

/** SIGKILLs every process whose real or effective uid is `uid`. */
async function killProcessesOf(uid: number): Promise<void> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, "utf8").catch(() => "");
    const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    if (uids && (Number(uids[1]) === uid || Number(uids[2]) === uid)) {
      try {
        process.kill(Number(entry), "SIGKILL");
      } catch {
        // gone already
      }
    }
  }
}

const isInside = (path: string, dir: string) => path === dir || path.startsWith(`${dir}${sep}`);

/**
 * Lets the slot read `path` (a tree inside its run's directory) and nothing beside it: the tree
 * gets the slot's group with g+rX — read, never write, so approved code cannot change what a later
 * tier runs — and the directories above it, up to the run's directory, get the group and g+x.
 */
export async function exposeToSandbox(path: string, slot: SandboxSlot): Promise<void> {
  await openPathTo(path, slot);
  await walkReadable(path, slot.gid);
}

/**
 * Makes the directories above `path` traversable for the slot: inside the run's directory through
 * the slot's group, above it (up to `within`) with o+x — those hold only run directories, each
 * closed to others. Directories above `within` are never changed: a closed one is an error.
 */
export async function openPathTo(path: string, slot: SandboxSlot): Promise<void> {
  if (!isInside(path, slot.runDir) || path === slot.runDir)
    throw infraError(`${path} is not inside the run's directory ${slot.runDir}`);
  for (let dir = dirname(path); isInside(dir, slot.runDir); dir = dirname(dir)) {
    const mode = (await lstat(dir)).mode & 0o7777;
    await chown(dir, -1, slot.gid);
    if ((mode & 0o010) === 0) await chmod(dir, mode | 0o010);
  }
  for (let dir = dirname(slot.runDir); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = (await lstat(dir)).mode & 0o7777;
    if ((mode & 0o001) !== 0) continue;
    if (!isInside(dir, slot.within)) {
      throw infraError(
        `${dir} is closed to the sandbox users (mode ${mode.toString(8)}): choose a work root under /tmp`,
      );
    }
    await chmod(dir, mode | 0o001);
  }
}

async function walkReadable(path: string, gid: number): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  const mode = info.mode & 0o7777;
  await chown(path, -1, gid);
  if (info.isDirectory()) {
    if ((mode & 0o050) !== 0o050) await chmod(path, mode | 0o050);
    for (const name of await readdir(path)) await walkReadable(join(path, name), gid);
  } else if ((mode & 0o040) === 0) {
    await chmod(path, mode | 0o040);
  }
}
