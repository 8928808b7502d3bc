// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose text holds literal ${VAR} references
/**
 * A hello-web pull request that tries to take over Taster's own processes through its env: fake
 * `docker`/`git`/`unshare` on a PATH it sets, NODE_OPTIONS and LD_PRELOAD, and `${TASTER_…}`
 * references in compose that the CLI would fill from the worker's environment. Every fake program
 * appends a line to `<markerDir>/ran` before handing over to the real one, so it is seen if it
 * ever runs, and the run would otherwise look normal.
 */
import { execFileSync } from "node:child_process";
import { appendFile, chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Variant } from "./compose";

/** The programs Taster starts; a hostile PR ships its own of each. */
const FAKED = ["docker", "git", "unshare", "node"];

/** The file every fake program appends to (with the token it saw, if any). */
export const markerFile = (markerDir: string) => join(markerDir, "ran");

function fakeProgram(name: string, markerDir: string): string {
  return [
    "#!/bin/sh",
    `echo "${name} ran as $(id -u) token=$TASTER_GITHUB_TOKEN" >> ${markerFile(markerDir)}`,
    `for d in /usr/local/bin /usr/bin /bin; do [ -x "$d/${name}" ] && exec "$d/${name}" "$@"; done`,
    "exit 127",
    "",
  ].join("\n");
}

/** Adds env entries and `${TASTER_…}` references to hello-web's compose (app env and a label). */
export const composeReadsWorkerVars: Variant = async (checkout) => {
  const path = join(checkout, "compose.yml");
  const text = await readFile(path, "utf8");
  if (!text.includes("    environment:\n")) throw new Error(`${path}: no "    environment:" block`);
  await writeFile(
    path,
    text
      .replace(
        "    environment:\n",
        "    environment:\n      - LEAK_TOKEN=${TASTER_GITHUB_TOKEN}\n      - LEAK_REDIS=${TASTER_REDIS_URL}\n      - LEAK_HOME=${HOME}\n",
      )
      .replace("      labels:\n", "      labels:\n        - leak=${TASTER_GITHUB_TOKEN}\n"),
  );
};

/** The whole hostile PR: fake programs on its PATH, NODE_OPTIONS, LD_PRELOAD, `${TASTER_…}` in compose. */
export function hostileEnv(markerDir: string): Variant {
  return async (checkout) => {
    await mkdir(join(checkout, "bin"), { recursive: true });
    for (const name of FAKED) {
      const path = join(checkout, "bin", name);
      await writeFile(path, fakeProgram(name, markerDir));
      await chmod(path, 0o755);
    }
    await writeFile(
      join(checkout, "evil.cjs"),
      `require("node:fs").appendFileSync(${JSON.stringify(markerFile(markerDir))}, "NODE_OPTIONS preload ran\\n");\n`,
    );
    await appendFile(
      join(checkout, ".env.sample"),
      [
        "",
        "# a hostile PR: steer the programs Taster runs",
        "PATH=./bin:/usr/local/bin:/usr/bin:/bin",
        "NODE_OPTIONS=--require ./evil.cjs",
        "",
      ].join("\n"),
    );
    await appendFile(join(checkout, "abra.sh"), "export LD_PRELOAD=./evil.so\n");
    await composeReadsWorkerVars(checkout);
  };
}

/**
 * Commits `variant` applied to `base` into the bare mirror (on a branch of its own) and returns
 * the new sha: a second pull request of the same world.
 */
export async function commitToMirror(
  mirror: string,
  base: string,
  variant: Variant,
  dir: string,
): Promise<string> {
  const checkout = join(dir, `pr-${Date.now().toString(36)}`);
  const git = (...args: string[]) => execFileSync("git", args).toString().trim();
  git("clone", "--quiet", mirror, checkout);
  try {
    git("-C", checkout, "checkout", "--quiet", base);
    await variant(checkout);
    git("-C", checkout, "add", "-A");
    git(
      "-C",
      checkout,
      "-c",
      "user.name=chaos",
      "-c",
      "user.email=chaos@taster.invalid",
      "commit",
      "--quiet",
      "-m",
      "chaos: compose reads worker variables",
    );
    const sha = git("-C", checkout, "rev-parse", "HEAD");
    git("-C", checkout, "push", "--quiet", "origin", `${sha}:refs/heads/chaos-${sha.slice(0, 8)}`);
    return sha;
  } finally {
    await rm(checkout, { recursive: true, force: true });
  }
}
