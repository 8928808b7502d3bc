// `pnpm build`: the production build, one ES module `dist/taster.mjs` (the CLI, so bridge, worker,
// janitor, doctor…) that runs on plain node, no tsx (docs/deploy.md, "The build").
//
// - The workspace's TypeScript (apps/, packages/, infra/lab, infra/forge-sim, chaos/) is bundled.
// - npm dependencies are not: each import is rewritten to the exact installed file that package
//   would have loaded in development (a relative path into node_modules/.pnpm), so every package
//   keeps its own runtime files (BullMQ's scripts, pino, ssh2's optional bindings) and version.
// - `import.meta.url` / `.dirname` / `.filename` keep meaning the *source* file, so the paths the
//   code derives from them (the harness's jest resolver and config, recipes-tests, docs/settings.md,
//   infra/lab/lab.sh) still point into the checkout: recipe tests still run from there, under jest.
import { readFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const ROOT = join(import.meta.dirname, "..");
// --outfile elsewhere (a test's scratch dir) works as well: every path in the bundle is relative to it.
const { values } = parseArgs({ options: { outfile: { type: "string" } } });
const OUT_FILE = resolve(values.outfile ?? join(ROOT, "dist", "taster.mjs"));
const OUT_DIR = dirname(OUT_FILE);
const ENTRY = join(ROOT, "apps", "cli", "src", "main.ts");

/** A path from dist/ to `file`, as an import specifier (always starts with ./ or ../). */
const fromDist = (file) => {
  const rel = relative(OUT_DIR, file).split(sep).join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
};

const isBare = (spec) => !spec.startsWith(".") && !spec.startsWith("/") && !spec.startsWith("node:");

/** npm packages stay outside the bundle, imported from where development resolves them. */
const externalNpm = {
  name: "external-npm",
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.inner || !isBare(args.path) || args.path.startsWith("@taster/")) return undefined;
      const found = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: { inner: true },
      });
      if (found.errors.length > 0) return { errors: found.errors };
      if (found.external) return { path: args.path, external: true }; // a Node built-in
      if (!found.path.includes(`${sep}node_modules${sep}`)) return { path: found.path };
      return { path: fromDist(found.path), external: true };
    });
  },
};

const META = /\bimport\.meta\.(url|dirname|filename)\b/g;

/** Workspace sources keep their own location in import.meta (see the top of this file). */
const sourceMeta = {
  name: "source-import-meta",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const text = await readFile(args.path, "utf8");
      const contents = text.replace(META, (_, key) => {
        if (key === "url") return `new URL(${JSON.stringify(fromDist(args.path))}, import.meta.url).href`;
        const target = key === "dirname" ? dirname(args.path) : args.path;
        return `__tasterSourcePath(${JSON.stringify(fromDist(target))})`;
      });
      return { contents, loader: "ts", resolveDir: dirname(args.path) };
    });
  },
};

const started = performance.now();
const result = await build({
  // One entry, split: each command's module (loaded on demand by main.ts) is a chunk of its own,
  // so `taster bridge` never loads what only the worker needs. Chunks sit next to the entry:
  // the npm import paths above are relative to OUT_DIR.
  entryPoints: { [basename(OUT_FILE, ".mjs")]: ENTRY },
  outdir: OUT_DIR,
  outExtension: { ".js": ".mjs" },
  splitting: true,
  chunkNames: "chunk-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  // Resolve as Node does (esbuild would add a "module" condition Node does not know).
  conditions: ["node"],
  mainFields: ["main"],
  // The CLI's main module awaits at top level; a banner brings what the rewritten import.meta needs.
  banner: {
    js: [
      "// Built by scripts/build.mjs from apps/cli/src/main.ts (`pnpm build`): do not edit.",
      'import { fileURLToPath as __tasterFileURLToPath } from "node:url";',
      "const __tasterSourcePath = (rel) => __tasterFileURLToPath(new URL(rel, import.meta.url));",
    ].join("\n"),
  },
  plugins: [externalNpm, sourceMeta],
  logLevel: "warning",
  legalComments: "none",
  metafile: true,
});
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".mjs"));
const size = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(
  `build: ${relative(ROOT, OUT_FILE)} and ${outputs.length - 1} chunks, ${(size / 1024).toFixed(0)} KiB in ${seconds} s\n`,
);
