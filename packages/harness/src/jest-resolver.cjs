"use strict";
/**
 * The sandbox's module resolver (jest's `resolver` option, set by jest-config.ts). Approved
 * repo-local code is pinned by its tree: an import that leaves the code this run may load (the
 * jest config's roots — the pinned copy of tests/taster, recipes-tests, the work dir — plus
 * @taster/testkit and Taster's node_modules) would run code nobody approved, so it is refused.
 *
 * jest swallows a resolver's error into a bare "Cannot find module", so a refusal resolves to a
 * one-line module that throws the reason instead: the test file fails saying which import, from
 * where, and why. CommonJS, because jest `require`s its resolver.
 */
const { mkdtempSync, readFileSync, realpathSync, writeFileSync } = require("node:fs");
const { isBuiltin } = require("node:module");
const { tmpdir } = require("node:os");
const { isAbsolute, join, resolve, sep } = require("node:path");

const REPO_ROOT = resolve(__dirname, "../../..");
const TASTER_CODE = [join(REPO_ROOT, "node_modules"), join(REPO_ROOT, "packages", "testkit")];
const REPO_LOCAL_DIR = `${sep}tests${sep}taster`;

const real = (path) => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

let roots;
/** The allowed roots: read once, from the config jest was started with (Taster writes it). */
function allowedRoots(rootDir) {
  if (roots) return roots;
  const at = process.argv.indexOf("--config");
  const configPath = at >= 0 ? process.argv[at + 1] : join(rootDir, "jest.config.json");
  const config = JSON.parse(readFileSync(configPath, "utf8"));
  roots = [...(config.roots ?? []), ...TASTER_CODE].map((root) => real(resolve(rootDir, root)));
  return roots;
}

const inside = (path, root) => path === root || path.startsWith(root + sep);
const allowed = (path, rootDir) => allowedRoots(rootDir).some((root) => inside(path, root));

/** Where an import was written, as a maintainer knows it (tests/taster/… for repo-local code). */
function shown(dir) {
  const at = dir.lastIndexOf(REPO_LOCAL_DIR);
  return at >= 0 ? dir.slice(at + 1) : dir;
}

function refuse(specifier, basedir, target) {
  const reason =
    `taster: import '${specifier}' in ${shown(basedir)} resolves outside the approved tree (${target}): ` +
    "repo-local code may import only its pinned tests/taster, recipes-tests, @taster/testkit and Taster's packages";
  process.stderr.write(`${reason}\n`);
  try {
    const stub = join(mkdtempSync(join(tmpdir(), "taster-refused-")), "refused.cjs");
    // No stack: the reason is the whole message (a code frame of the stub would only repeat it).
    writeFileSync(stub, `const e = new Error(${JSON.stringify(reason)});\ne.stack = e.message;\nthrow e;\n`);
    return stub;
  } catch {
    throw new Error(reason);
  }
}

module.exports = function tasterResolver(specifier, options) {
  const { basedir, rootDir } = options;
  if (isBuiltin(specifier)) return options.defaultResolver(specifier, options);
  // A path import is judged by where it points, found or not: "../../lib/x" names the problem.
  if (specifier.startsWith(".") || isAbsolute(specifier)) {
    const target = resolve(basedir, specifier);
    if (!allowed(real(target), rootDir)) return refuse(specifier, basedir, target);
  }
  const resolved = options.defaultResolver(specifier, options);
  if (isBuiltin(resolved)) return resolved;
  const target = real(resolved);
  if (!allowed(target, rootDir)) return refuse(specifier, basedir, target);
  return resolved;
};
