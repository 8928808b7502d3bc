import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { TIERS, type Tier } from "@taster/core";
import { type GateDecision, REPO_LOCAL_DIR } from "./allowlist";
import type { ManifestEntry } from "./results";

export const HOOK_NAMES = {
  install: "preInstall",
  upgrade: "preUpgrade",
  backup: "preBackup",
  restore: "preRestore",
} as const satisfies Partial<Record<Tier, string>>;

export interface Customization {
  /** Assertion files to run per tier (only allowed ones), generic first. */
  assertions: Record<Tier, string[]>;
  /** ops.ts modules (only allowed ones), maintained overlay first. */
  hooks: string[];
  /** Everything found, allowed or not, with the reason: the run's manifest. */
  entries: ManifestEntry[];
}

export interface DiscoveryInput {
  recipesTestsDir: string;
  recipe: string;
  checkoutDir: string;
  /** An allowed gate carries `pinnedDir` (Taster's copy of the pinned tree): what runs is found there. */
  gate: GateDecision;
}

/**
 * Where repo-local files are looked for: the pinned copy when they may run (never the checkout,
 * whose tests/taster may hold symlinks or sit beside files nobody approved); the checkout's
 * tests/taster otherwise, only to list what was not run in the manifest.
 */
function repoLocalDir(input: DiscoveryInput): string {
  if (!input.gate.allowed) return join(input.checkoutDir, REPO_LOCAL_DIR);
  if (!input.gate.pinnedDir) throw new Error("an allowed repo-local gate has no pinned copy to run from");
  return input.gate.pinnedDir;
}

const exists = (path: string) =>
  stat(path).then(
    (s) => s.isFile(),
    () => false,
  );

async function testsIn(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => n.endsWith(".test.ts"))
    .sort()
    .map((n) => join(dir, n));
}

/** Finds generic, overlay and repo-local assertions and hooks; repo-local ones obey the gate. */
export async function discoverCustomization(input: DiscoveryInput): Promise<Customization> {
  const generic = join(input.recipesTestsDir, "_generic");
  const overlay = join(input.recipesTestsDir, input.recipe);
  const local = repoLocalDir(input);
  const entries: ManifestEntry[] = [];
  const assertions = Object.fromEntries(TIERS.map((t) => [t, [] as string[]])) as Record<Tier, string[]>;
  const hooks: string[] = [];

  const admit = (entry: Omit<ManifestEntry, "allowed" | "why">) => {
    const repoLocal = entry.source === "repo-local";
    const allowed = repoLocal ? input.gate.allowed : true;
    const why = repoLocal ? input.gate.why : `${entry.source} (maintained in Taster)`;
    entries.push({ ...entry, allowed, why });
    return allowed;
  };

  for (const tier of TIERS) {
    for (const [source, dir] of [
      ["generic", generic],
      ["overlay", overlay],
      ["repo-local", local],
    ] as const) {
      const files =
        tier === "custom"
          ? source === "generic"
            ? []
            : await testsIn(join(dir, "custom"))
          : (await exists(join(dir, `${tier}.test.ts`)))
            ? [join(dir, `${tier}.test.ts`)]
            : [];
      for (const path of files) {
        if (admit({ kind: tier === "custom" ? "custom" : "assertion", tier, source, path })) {
          assertions[tier].push(path);
        }
      }
    }
  }
  for (const [source, dir] of [
    ["overlay", overlay],
    ["repo-local", local],
  ] as const) {
    const path = join(dir, "ops.ts");
    if ((await exists(path)) && admit({ kind: "hook", tier: "*", source, path })) hooks.push(path);
  }
  return { assertions, hooks, entries };
}
