/**
 * Approved repo-local code that tries to run more than its pin: one PR of hello-web per attempt,
 * each approved by a pin of exactly its tests/taster tree, each reaching for code outside it —
 * configuration at the recipe's root, an import out of tests/taster, a symlink. Code that must
 * never run leaves a marker file; a marker directory the sandbox may write to makes its absence mean
 * something (the config attempt's own test writes a control marker there).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { REPO_LOCAL_DIR, runRecipe } from "@taster/harness";
import type { RunStep } from "@taster/worker";
import type { WorldOptions } from "../world";

type Files = Record<string, string | { symlink: string }>;

export interface Attempt {
  /** Short name: "config", "import", "symlink". */
  name: string;
  /** The PR (of the world's repo) that carries it. */
  pr: number;
  /** Markers that must stay absent (what the attempt's injected code would write). */
  forbidden: string[];
  files: (markers: string) => Files;
}

/** JS (CommonJS, as a config file is loaded) that leaves `marker` when run. */
const cjsLeaves = (marker: string) => `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`;
/** The same for an ES module (how the sandbox's jest loads .ts). */
const esmLeaves = (marker: string) =>
  `import { writeFileSync as leave } from "node:fs";\nleave(${JSON.stringify(marker)}, "ran");\nexport const evil = 1;\n`;

export const ATTEMPTS: Attempt[] = [
  {
    name: "config",
    pr: 1,
    forbidden: ["babel-config", "jest-config", "jest-setup"],
    files: (m) => ({
      ".swcrc": JSON.stringify({
        jsc: { transform: { optimizer: { globals: { vars: { SWCRC_PROBE: '"root .swcrc"' } } } } },
      }),
      "babel.config.js": `${cjsLeaves(join(m, "babel-config"))}module.exports = {};\n`,
      "jest.config.js": `${cjsLeaves(join(m, "jest-config"))}module.exports = {};\n`,
      "package.json": JSON.stringify({ jest: { setupFiles: ["./lib/setup.js"] } }),
      "lib/setup.js": cjsLeaves(join(m, "jest-setup")),
      "lib/beside.ts": "export const beside = 1;\n",
      [`${REPO_LOCAL_DIR}/install.test.ts`]: `import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect, test } from "@jest/globals";
declare const SWCRC_PROBE: string;

test("pin-bypass: only Taster's configuration and the pinned tree", () => {
  writeFileSync(${JSON.stringify(join(m, "seen-config"))}, "ran");
  const here = dirname(expect.getState().testPath ?? "");
  expect(typeof SWCRC_PROBE === "undefined" ? "no .swcrc" : SWCRC_PROBE).toBe("no .swcrc");
  expect(existsSync(join(here, "..", "..", "lib", "beside.ts"))).toBe(false);
});
`,
    }),
  },
  {
    name: "import",
    pr: 2,
    forbidden: ["import-evil"],
    files: (m) => ({
      "lib/evil.ts": esmLeaves(join(m, "import-evil")),
      [`${REPO_LOCAL_DIR}/install.test.ts`]: `import { test } from "@jest/globals";
import { evil } from "../../lib/evil.ts";
test("pin-bypass: uses a file outside tests/taster", () => void evil);
`,
    }),
  },
  {
    name: "symlink",
    pr: 3,
    forbidden: ["symlink-evil"],
    files: (m) => ({
      "lib/evil.ts": esmLeaves(join(m, "symlink-evil")),
      [`${REPO_LOCAL_DIR}/helper.ts`]: { symlink: "../../lib/evil.ts" },
      [`${REPO_LOCAL_DIR}/install.test.ts`]: `import { test } from "@jest/globals";
import { evil } from "./helper.ts";
test("pin-bypass: uses a symlinked file", () => void evil);
`,
    }),
  },
];

const git = (checkout: string, ...args: string[]) =>
  execFileSync("git", [
    "-C",
    checkout,
    "-c",
    "user.name=chaos",
    "-c",
    "user.email=chaos@taster.invalid",
    ...args,
  ])
    .toString()
    .trim();

async function write(checkout: string, files: Files): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(checkout, path)), { recursive: true });
    if (typeof content === "string") await writeFile(join(checkout, path), content);
    else await symlink(content.symlink, join(checkout, path));
  }
}

/** The world of the attempts: PR #1 is the world's variant, the others are pushed beside it. */
export class PinBypass {
  /** PR number → head sha, for the PRs after #1 (the world makes #1's). */
  readonly heads = new Map<number, string>();
  private readonly trees: string[] = [];
  private allowlistPath?: string;

  constructor(readonly markers: string) {}

  world(): WorldOptions {
    return { variant: (checkout) => this.apply(checkout), worker: { runStep: this.runStep } };
  }

  private async apply(checkout: string): Promise<void> {
    const base = git(checkout, "rev-parse", "HEAD");
    for (const attempt of ATTEMPTS.filter((a) => a.pr !== 1)) {
      await write(checkout, attempt.files(this.markers));
      git(checkout, "add", "-A");
      git(checkout, "commit", "--quiet", "-m", `pin-bypass: ${attempt.name}`);
      this.trees.push(git(checkout, "rev-parse", `HEAD:${REPO_LOCAL_DIR}`));
      this.heads.set(attempt.pr, git(checkout, "rev-parse", "HEAD"));
      git(checkout, "push", "--quiet", "origin", `HEAD:refs/heads/pin-bypass-${attempt.name}`);
      git(checkout, "checkout", "--quiet", "--force", base);
      git(checkout, "clean", "-qfdx");
    }
    // PR #1: the world commits what is left in the checkout.
    const first = ATTEMPTS.find((a) => a.pr === 1) as Attempt;
    await write(checkout, first.files(this.markers));
    git(checkout, "add", "-A");
    this.trees.push(git(checkout, "write-tree", `--prefix=${REPO_LOCAL_DIR}/`));
    this.allowlistPath = join(dirname(checkout), "allowlist-pin-bypass.yml");
  }

  /** Every attempt's tree is approved, for the repository the job runs (pins are keyed by owner/name). */
  private readonly runStep: RunStep = (opts) => {
    if (!this.allowlistPath) throw new Error("the pin-bypass variant was never applied");
    const pins = this.trees.flatMap((tree) => [
      `      - tree: ${tree}`,
      "        approvedBy: chaos",
      "        approvedAt: today",
      "        why: pinned on purpose; what runs must still be only this tree",
    ]);
    writeFileSync(
      this.allowlistPath,
      ["recipes:", `  - repo: ${opts.repo}`, "    pins:", ...pins, ""].join("\n"),
    );
    return runRecipe({ ...opts, allowlistPath: this.allowlistPath });
  };
}
