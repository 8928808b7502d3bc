import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const LAB_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "..", "lab.sh");

/** Where the lab's parts answer; written by `lab.sh up` to <state>/lab.json. */
export interface LabInfo {
  stateDir: string;
  dockerHost: string;
  redisUrl: string;
  ssh: { url: string; privateKeyPath: string; knownHostsPath: string };
  recipesDir: string;
  recipes: string[];
  images: { web: string[]; probe: string; debian: string[] };
}

let ready: Promise<LabInfo> | undefined;

/** Brings the lab up (idempotent, fast when already up) and says where its parts are. */
export function ensureLab(): Promise<LabInfo> {
  ready ??= (async () => {
    const { stderr } = await run(LAB_SCRIPT, ["up"], { maxBuffer: 16 * 1024 * 1024 }).catch((error) => {
      throw new Error(`lab up failed: ${error.stderr || error.message}`);
    });
    const match = /lab: up \((.+)\)/.exec(stderr);
    if (!match?.[1]) throw new Error(`lab up did not say where lab.json is:\n${stderr}`);
    return JSON.parse(await readFile(match[1], "utf8")) as LabInfo;
  })();
  return ready;
}

/**
 * Where the lab keeps its state, as lab.sh decides it ($TASTER_LAB_DIR, else the XDG state dir):
 * for callers that must name a lab file before they can await `ensureLab()`.
 */
export const labStateDir = (): string =>
  process.env.TASTER_LAB_DIR ??
  join(process.env.XDG_STATE_HOME ?? join(homedir(), ".local", "state"), "taster-lab");

/** The bare git repo of a bundled sample recipe, as published by the lab. */
export const recipeRepo = (lab: LabInfo, name: string) => join(lab.recipesDir, `${name}.git`);

export { LAB_SCRIPT };
