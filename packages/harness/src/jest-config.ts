import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

const REPO_ROOT = resolve(import.meta.dirname, "../../..");
const rootRequire = createRequire(join(REPO_ROOT, "package.json"));

/** Absolute paths the generated jest config needs: nothing is resolved relative to the sandbox. */
export const toolPaths = {
  repoRoot: REPO_ROOT,
  nodeModules: join(REPO_ROOT, "node_modules"),
  jestBin: join(dirname(rootRequire.resolve("jest/package.json")), "bin", "jest.js"),
  swcJest: rootRequire.resolve("@swc/jest"),
  testkit: join(REPO_ROOT, "packages", "testkit", "src", "index.ts"),
  recipesTests: join(REPO_ROOT, "recipes-tests"),
  resolver: join(import.meta.dirname, "jest-resolver.cjs"),
};

/**
 * swc as Taster configures it, and only so: `swcrc: false` stops swc from reading a `.swcrc` next
 * to (or above) a test file, which would let a file beside the approved code change how it compiles.
 */
export const SWC_OPTIONS = {
  swcrc: false,
  configFile: false,
  jsc: { target: "es2022", parser: { syntax: "typescript" } },
} as const;

/**
 * The jest configuration of one sandboxed run: Taster's own, never anything from the recipe. It is
 * passed with --config, so no jest.config.* or package.json "jest" key of the recipe is read;
 * rootDir is Taster's work dir; only .ts is transformed (by swc, above), so no babel config is
 * ever looked up; the resolver refuses imports that leave `roots` and Taster's own packages.
 */
export function jestConfig(workDir: string, roots: string[], cacheDir: string) {
  return {
    rootDir: workDir,
    roots,
    testEnvironment: "node",
    extensionsToTreatAsEsm: [".ts"],
    moduleFileExtensions: ["ts", "js", "mjs", "json"],
    transform: {
      "^.+\\.ts$": [toolPaths.swcJest, SWC_OPTIONS],
    },
    resolver: toolPaths.resolver,
    // Recipe checkouts have no node_modules: map what tests import to the workspace's copies.
    moduleNameMapper: { "^@taster/testkit$": toolPaths.testkit },
    modulePaths: [toolPaths.nodeModules],
    cacheDirectory: cacheDir,
    testMatch: ["**/*.test.ts"],
    testPathIgnorePatterns: ["/node_modules/"],
    // A test may wait for the op and a slow deployment: only the tier's own clock bounds it
    // (jest's default is 5 s); the kill below is the real limit.
    testTimeout: 2_000_000_000,
    watchman: false,
    haste: { enableSymlinks: false },
  };
}
