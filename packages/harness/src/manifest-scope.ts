import type { Stage, Tier } from "@taster/core";
import type { ManifestEntry } from "./results";

/**
 * The manifest lists what this run will run (or refuse): the files of the tiers `--stages` asked
 * for, and the hooks (`ops.ts`, tier `*`). A file of a tier that is not run is not part of it.
 */
export function entriesFor(entries: ManifestEntry[], stages: readonly Stage[]): ManifestEntry[] {
  return entries.filter((entry) => entry.tier === "*" || stages.includes(entry.tier as Tier));
}
