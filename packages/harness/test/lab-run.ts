import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LabInfo } from "@taster/lab";
import { connectHost, findResidue } from "@taster/swarm";
import { type Results, type RunOptions, runRecipe } from "../src/index";

let runs = 0;

/** One full run against the lab's swarm, with its outputs in a fresh dir; returns what was written. */
export async function labRun(
  lab: LabInfo,
  opts: Omit<RunOptions, "outDir" | "hostUrl">,
): Promise<{ results: Results; onDisk: Results; log: string; outDir: string }> {
  const outDir = await mkdtemp(join(tmpdir(), "taster-run-out-"));
  // Other engineers' tests run the same sample recipes on this engine: never share their stack.
  const nameSalt = `test-${process.pid}-${runs++}`;
  const results = await runRecipe({ ...opts, hostUrl: lab.dockerHost, outDir, nameSalt });
  const onDisk = JSON.parse(await readFile(join(outDir, "results.json"), "utf8")) as Results;
  const log = await readFile(join(outDir, "run.log"), "utf8");
  return { results, onDisk, log, outDir };
}

/** Residue of a stack as the engine sees it now, independently of what the run reported. */
export async function residueOf(lab: LabInfo, stack: string): Promise<string[]> {
  const host = await connectHost(lab.dockerHost);
  try {
    return await findResidue(host, stack);
  } finally {
    await host.close();
  }
}

export const rowNames = (results: Results, tier: keyof Results["tiers"]) =>
  results.tiers[tier].tests.map((r) => `${r.status} ${r.file} › ${r.name}`);
