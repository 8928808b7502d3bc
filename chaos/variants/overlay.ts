/**
 * Recipe-shipped test code (tests/taster/) as a variant of hello-web PR #1, approved for exactly
 * that content: the variant pins the tree hash in a private allowlist, and the worker's run step
 * uses that allowlist (and a short tier timeout) — the product's defaults are not touched.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { REPO_LOCAL_DIR, runRecipe } from "@taster/harness";
import type { RunStep } from "@taster/worker";
import type { WorldOptions } from "../world";
import type { Variant } from "./compose";

export interface OverlayOptions {
  /** File name (relative to tests/taster/) → source; made when the variant is applied. */
  files: () => Promise<Record<string, string>>;
  /** Other changes to the recipe (e.g. a secret for the app). */
  recipe?: Variant;
  /** The tier timeout the run uses, in seconds (default: the recipe's). */
  tierTimeoutSeconds?: number;
}

/** One world's approved overlay: what the world needs, and where the run's outputs went. */
export class ApprovedOverlay {
  /** The allowlist pinning this overlay; written next to the variant's checkout (removed with the world). */
  allowlistPath?: string;
  /** The tree hash of tests/taster that was pinned. */
  treeHash?: string;
  /** The last run's output directory (results.json, run.log with the tests' own output). */
  outDir?: string;

  constructor(private readonly options: OverlayOptions) {}

  world(): WorldOptions {
    return { variant: (checkout) => this.apply(checkout), worker: { runStep: this.runStep } };
  }

  private async apply(checkout: string): Promise<void> {
    await this.options.recipe?.(checkout);
    for (const [name, source] of Object.entries(await this.options.files())) {
      const path = join(checkout, REPO_LOCAL_DIR, name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, source);
    }
    execFileSync("git", ["-C", checkout, "add", REPO_LOCAL_DIR]);
    // The hash `git rev-parse <sha>:tests/taster` will give once committed: what a maintainer pins.
    this.treeHash = execFileSync("git", ["-C", checkout, "write-tree", `--prefix=${REPO_LOCAL_DIR}/`])
      .toString()
      .trim();
    this.allowlistPath = join(dirname(checkout), `allowlist-${randomBytes(4).toString("hex")}.yml`);
  }

  /** Pins are keyed by owner/name: the pin is written for the repository the job runs. */
  private pinFor(repo: string | undefined): void {
    writeFileSync(
      this.allowlistPath as string,
      [
        "recipes:",
        `  - repo: ${repo}`,
        "    pins:",
        `      - tree: ${this.treeHash}`,
        "        approvedBy: chaos",
        "        approvedAt: today",
        "        why: the chaos suite's hostile overlay, approved on purpose",
        "",
      ].join("\n"),
    );
  }

  private readonly runStep: RunStep = (opts) => {
    if (!this.allowlistPath) throw new Error("the overlay variant was never applied");
    this.pinFor(opts.repo);
    if (opts.outDir) this.outDir = opts.outDir;
    const timeout = this.options.tierTimeoutSeconds;
    return runRecipe({
      ...opts,
      allowlistPath: this.allowlistPath,
      ...(timeout ? { tierTimeoutSeconds: timeout } : {}),
    });
  };
}

/** A marker unique to one world, to find what its test code left behind. */
export const newMarker = (what: string) => `chaos-${what}-${randomBytes(5).toString("hex")}`;
