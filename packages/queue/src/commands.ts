import { readdirSync, readFileSync } from "node:fs";
import type { Redis } from "ioredis";

/**
 * The queue layer's Lua scripts, one file per command under `commands/` named
 * `<command>-<number of keys>.lua` (BullMQ's own layout). Each becomes an ioredis custom command
 * (`defineCommand`): EVALSHA, falling back to EVAL when the server does not know the script yet.
 */
type Reply = Promise<unknown>;
type Command = (...keysThenArgs: string[]) => Reply;

export interface QueueCommands {
  claimRun: Command;
  cancelRun: Command;
  transitionRun: Command;
  startRun: Command;
  recordPush: Command;
  queuePosition: Command;
  acceptIntake: Command;
  publishReport: Command;
  ackReport: Command;
  extendLock: Command;
  releaseLock: Command;
}

const DIR = new URL("./commands/", import.meta.url);

/** Read once per process: name → { keys, lua }. */
const SCRIPTS = readdirSync(DIR)
  .filter((file) => file.endsWith(".lua"))
  .map((file) => {
    const match = /^(\w+)-(\d+)\.lua$/.exec(file);
    if (!match)
      throw new Error(`packages/queue/src/commands/${file}: name it <command>-<number of keys>.lua`);
    return {
      name: match[1] as string,
      keys: Number(match[2]),
      lua: readFileSync(new URL(file, DIR), "utf8"),
    };
  });

const defined = new WeakSet<Redis>();

/** The connection with the queue layer's commands defined on it (once per connection). */
export function commandsOf(redis: Redis): QueueCommands {
  if (!defined.has(redis)) {
    for (const script of SCRIPTS)
      redis.defineCommand(script.name, { numberOfKeys: script.keys, lua: script.lua });
    defined.add(redis);
  }
  return redis as unknown as QueueCommands;
}
