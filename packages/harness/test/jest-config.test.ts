import { execFile, execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { jestConfig, toolPaths } from "../src/jest-config";
import { copyPinnedTree } from "../src/pinned-copy";

// The sandbox's jest configuration, run as jest runs it for a tier (one process, Taster's config)
// against the pinned copy of a hostile recipe: configuration files at the recipe's root and inside
// tests/taster, and imports that leave the approved tree. Not the sandbox's uid (sandbox.test.ts
// covers that): what is checked here is which code jest loads at all.
const run = promisify(execFile);
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

let dir: string;
let markers: string;
let report: {
  testResults: { name: string; status: string; message: string; assertionResults: { status: string }[] }[];
};
let seen: Record<string, unknown> = {};

/** A line of JS that leaves a marker file named `what` when it runs. */
const leaves = (what: string) =>
  `require("node:fs").writeFileSync(${JSON.stringify(join("MARKERS", what))}, "ran");`;

const marked = (what: string) =>
  stat(join(markers, what)).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "taster-jestcfg-"));
  markers = join(dir, "markers");
  await mkdir(markers);
  const m = (what: string) => leaves(what).replace("MARKERS", markers);
  const repo = join(dir, "recipe");
  await mkdir(join(repo, "tests/taster/custom"), { recursive: true });
  await mkdir(join(repo, "lib"), { recursive: true });
  git(dir, "init", "-q", repo);
  // Beside tests/taster, never approved: each would change what runs if jest or swc read it.
  const swcrc = (value: string) =>
    JSON.stringify({
      jsc: { transform: { optimizer: { globals: { vars: { SWCRC_PROBE: JSON.stringify(value) } } } } },
    });
  await writeFile(join(repo, ".swcrc"), swcrc("root .swcrc"));
  await writeFile(join(repo, "babel.config.js"), `${m("babel.config.js")}\nmodule.exports = {};\n`);
  await writeFile(join(repo, "jest.config.js"), `${m("jest.config.js")}\nmodule.exports = {};\n`);
  await writeFile(join(repo, "package.json"), JSON.stringify({ jest: { setupFiles: ["./lib/setup.js"] } }));
  await writeFile(join(repo, "lib/setup.js"), m("setup.js"));
  await writeFile(
    join(repo, "lib/evil.ts"),
    `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(join(markers, "evil.ts"))}, "ran");\nexport const evil = 1;\n`,
  );
  // Inside the pinned tree: reviewed, but configuration still comes from Taster only.
  await writeFile(join(repo, "tests/taster/.swcrc"), swcrc("tests/taster/.swcrc"));
  await writeFile(join(repo, "tests/taster/.babelrc"), "{}\n");
  await writeFile(
    join(repo, "tests/taster/install.test.ts"),
    `import { writeFileSync } from "node:fs";
import { test } from "@jest/globals";
declare const SWCRC_PROBE: string;
test("records what it sees", () => {
  const probe = typeof SWCRC_PROBE === "undefined" ? "no .swcrc" : SWCRC_PROBE;
  writeFileSync(${JSON.stringify(join(markers, "seen.json"))}, JSON.stringify({ probe }));
});
`,
  );
  // Relative imports out of the approved tree: to where the recipe root would be, and to the checkout.
  await writeFile(
    join(repo, "tests/taster/custom/outside.test.ts"),
    `import { test } from "@jest/globals";\nimport { evil } from "../../../lib/evil.ts";\ntest("uses it", () => void evil);\n`,
  );
  await writeFile(
    join(repo, "tests/taster/custom/checkout.test.ts"),
    `import { test } from "@jest/globals";\nimport { evil } from "../../../../recipe/lib/evil.ts";\ntest("uses it", () => void evil);\n`,
  );
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "hostile recipe");
  const tree = git(repo, "rev-parse", "HEAD:tests/taster");

  const pinned = await copyPinnedTree(repo, tree, join(dir, "pinned"));
  const workDir = join(dir, "sandbox", "install");
  await mkdir(join(workDir, "tmp"), { recursive: true });
  const configPath = join(workDir, "jest.config.json");
  const config = jestConfig(workDir, [workDir, pinned], join(dir, "sandbox", "jest-cache"));
  await writeFile(configPath, JSON.stringify(config));
  const files = ["install.test.ts", "custom/outside.test.ts", "custom/checkout.test.ts"].map((f) =>
    join(pinned, f),
  );
  const output = join(workDir, "results.json");
  await run(
    process.execPath,
    [
      toolPaths.jestBin,
      "--config",
      configPath,
      "--ci",
      "--json",
      "--outputFile",
      output,
      "--runTestsByPath",
      ...files,
    ],
    {
      cwd: workDir,
      env: {
        PATH: "/usr/bin:/bin",
        TMPDIR: join(workDir, "tmp"),
        NODE_OPTIONS: "--experimental-vm-modules --no-warnings",
      },
    },
  ).catch(() => undefined); // failing test files make jest exit 1: the report says which
  report = JSON.parse(await readFile(output, "utf8"));
  seen = JSON.parse(await readFile(join(markers, "seen.json"), "utf8").catch(() => "{}"));
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const resultOf = (suffix: string) => report.testResults.find((r) => r.name.endsWith(suffix));

describe("the sandbox's jest configuration is Taster's only", () => {
  test("no .swcrc (at the recipe root or inside tests/taster) changes how the approved code compiles", () => {
    expect(resultOf("install.test.ts")?.status).toBe("passed");
    expect(seen.probe).toBe("no .swcrc");
  });

  test("a babel.config.js, jest.config.js or package.json jest key of the recipe never runs", async () => {
    for (const what of ["babel.config.js", "jest.config.js", "setup.js"])
      expect(await marked(what)).toBe(false);
  });

  test("an import out of the approved tree fails its file, naming the import and where it was written", async () => {
    const outside = resultOf("custom/outside.test.ts");
    expect(outside?.status).toBe("failed");
    expect(outside?.message).toContain(
      "import '../../../lib/evil.ts' in tests/taster/custom resolves outside the approved tree",
    );
    const checkout = resultOf("custom/checkout.test.ts");
    expect(checkout?.status).toBe("failed");
    expect(checkout?.message).toContain(`import '../../../../recipe/lib/evil.ts' in tests/taster/custom`);
  });

  test("the imported file's code never ran", async () => {
    expect(await marked("evil.ts")).toBe(false);
  });
});
