// The layering of the workspace (docs/architecture.md, "Layers"), checked by `pnpm lint`:
//   apps → packages (never back); the bridge never loads engine code; chaos/ and bench/ use the
//   workspace's packages by name, like any other consumer. Paths below are the resolved files
//   (workspace symlinks followed), so `@taster/swarm` is `packages/swarm/...`.

/**
 * Two rules per "never": no module of `from` imports one of `packages` (the import lines), and
 * the package's entry does not reach one of them through anything else (the transitive path).
 * The second looks only at entry files: between every module pair it would print hundreds of lines.
 */
function neverReaches(name, from, packages, comment) {
  const to = packages.join("|");
  return [
    { name, severity: "error", comment, from: { path: `^${from}/src/` }, to: { path: `^packages/(${to})/` } },
    {
      name: `${name}-transitively`,
      severity: "error",
      comment,
      from: { path: `^${from}/src/index\\.ts$` },
      to: { path: `^packages/(${to})/src/index\\.ts$`, reachable: true },
    },
  ];
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "A cycle makes two modules one: split out what both need. Type-only imports are erased at build time and do not count.",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "packages-not-to-apps",
      severity: "error",
      comment: "packages/* are libraries the apps compose; an app's code belongs in the app.",
      from: { path: "^packages/" },
      to: { path: "^apps/" },
    },
    ...neverReaches(
      "bridge-not-to-engine",
      "apps/bridge",
      ["swarm", "harness"],
      "The webhook-answering process loads no engine code (dockerode, ssh2, jest): results, job and " +
        "status types belong in @taster/contracts.",
    ),
    ...neverReaches(
      "harness-not-to-forge",
      "packages/harness",
      ["forge"],
      "The harness runs a recipe; reporting to a forge is the worker's job.",
    ),
    ...neverReaches(
      "testkit-not-to-swarm",
      "packages/testkit",
      ["swarm"],
      "Overlay tests talk to the deployment through the testkit's broker, never to Docker.",
    ),
    {
      name: "chaos-bench-by-package-name",
      severity: "error",
      comment:
        'chaos/ and bench/ import workspace packages by name ("@taster/worker"), never a relative ' +
        "path into apps/, packages/ or infra/: add what they need to that package's exports.",
      from: { path: "^(chaos|bench)/" },
      to: { path: "^(apps|packages|infra)/", dependencyTypes: ["local"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/|^dist/" },
    // The type-only imports count too: they are how a layer leaks its model.
    tsPreCompilationDeps: true,
    parser: "swc",
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"],
      mainFields: ["module", "main", "types"],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
