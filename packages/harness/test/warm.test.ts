import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SweepRow } from "@taster/contracts";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import {
  connectHost,
  dropRecipe,
  type Host,
  janitor,
  type KnownGood,
  knownGoodOf,
  listKnownGoods,
  NAMESPACE_LABEL,
  STACK_LABEL,
  volumeFacts,
} from "@taster/swarm";
import { runRecipe, runSweep, SEEDED_STAGES } from "../src/index";

/**
 * Warm known-goods on the lab's real swarm with warm-pg (infra/lab/recipes/warm-pg): PostgreSQL
 * behind a small app; 0.2.0+1.1 migrates the schema, 0.3.0+1.2 breaks only over existing rows, and
 * pull request 7 fixes that. The test publishes the releases one by one into a copy of the recipe's
 * repository, as upstream would over time, and sweeps after each.
 */
const git = promisify(execFile);
const RECIPE = "warm-pg";
const V1 = "0.1.0+1.0";
const V2 = "0.2.0+1.1";
const V3 = "0.3.0+1.2";

let lab: LabInfo;
let host: Host;
let work: string;
let source: string;
const repo = `lab/warm-pg-${process.pid}`;

/** Publishes one more release tag of the lab's warm-pg into the test's copy. */
const release = (tag: string) =>
  git("git", [
    "-C",
    source,
    "fetch",
    "-q",
    "--no-tags",
    recipeRepo(lab, RECIPE),
    `refs/tags/${tag}:refs/tags/${tag}`,
  ]);

async function sweep(): Promise<SweepRow> {
  const outDir = await mkdtemp(join(work, "sweep-"));
  const result = await runSweep({
    targets: [{ recipe: RECIPE, repo, source }],
    outDir,
    hostUrl: lab.dockerHost,
    attempts: 0,
  });
  return result.recipes[0] as SweepRow;
}

/** Whether a volume holds a file containing `text` (PostgreSQL keeps short rows as plain text). */
async function volumeHolds(volume: string, text: string): Promise<boolean> {
  const container = await host.docker.createContainer({
    Image: "taster-lab/probe:latest",
    // Basic regex, not -F: busybox's grep -rF finds nothing in this image ('.' and '+' match themselves too).
    Cmd: ["grep", "-rq", text, "/v"],
    HostConfig: {
      Mounts: [{ Type: "volume", Source: volume, Target: "/v", ReadOnly: true }],
      NetworkMode: "none",
    },
  });
  try {
    await container.start();
    return ((await container.wait()) as { StatusCode: number }).StatusCode === 0;
  } finally {
    await container.remove({ force: true });
  }
}

const digests = async (kg: KnownGood) =>
  (await volumeFacts(host, Object.values(kg.volumes))).map((f) => f.digest);

async function current(): Promise<KnownGood> {
  const kg = await knownGoodOf(host, RECIPE);
  if (!kg) throw new Error("no known-good of warm-pg on the host");
  return kg;
}

beforeAll(async () => {
  lab = await ensureLab();
  host = await connectHost(lab.dockerHost);
  // Only this test makes warm-pg known-goods: start from none.
  await dropRecipe(host, RECIPE).catch(() => undefined);
  work = await mkdtemp(join(tmpdir(), "taster-warm-"));
  // The recipe name comes from the repository's name: the copy is warm-pg.git, with only 0.1.0+1.0 out yet.
  source = join(work, `${RECIPE}.git`);
  await git("git", ["clone", "-q", "--bare", recipeRepo(lab, RECIPE), source]);
  await git("git", ["-C", source, "tag", "-d", V2, V3]);
  await git("git", [
    "-C",
    source,
    "fetch",
    "-q",
    "--no-tags",
    recipeRepo(lab, RECIPE),
    "refs/pull/*:refs/pull/*",
  ]);
});

afterAll(async () => {
  await dropRecipe(host, RECIPE).catch(() => undefined);
  await host.close();
  await rm(work, { recursive: true, force: true });
});

describe("warm known-goods", () => {
  test("the first green sweep keeps a known-good: data copied out, app env, secrets and checksums recorded", async () => {
    const row = await sweep();
    expect(row).toMatchObject({ verdict: "pass" });
    expect(row.warm).toEqual({ action: "kept", version: V1, from: null });
    const kg = await current();
    expect(kg.version).toBe(V1);
    expect(Object.keys(kg.volumes)).toEqual(["postgres"]);
    expect(Object.keys(kg.secrets)).toEqual(["db_password_v1"]);
    expect(kg.appEnv.text).toContain("SECRET_DB_PASSWORD_VERSION=v1");
    expect(await digests(kg)).toEqual([kg.checksums.postgres]);
    expect(await volumeHolds(kg.volumes.postgres as string, `aged-row written under ${V1}`)).toBe(true);
    // Held by no stack: no stack label, and no running service mounts it.
    const volume = await host.docker.getVolume(kg.volumes.postgres as string).inspect();
    expect(volume.Labels?.[STACK_LABEL]).toBeUndefined();
    expect(volume.Labels?.[NAMESPACE_LABEL]).toBeUndefined();
  }, 600_000);

  test("the janitor cleaning up the very stack a known-good was kept from removes its leftovers, never the known-good", async () => {
    const kg = await current();
    // A leftover of that (torn down) run, as a killed worker would leave it.
    const dead = kg.stack;
    await host.docker.createVolume({
      Name: `${dead}_leftover`,
      Labels: { [STACK_LABEL]: dead, [NAMESPACE_LABEL]: dead },
    });
    const removed = await janitor(host, { live: new Set(), dryRun: false, prefix: dead });
    expect(removed).toEqual([dead]);
    const names = (await host.docker.listVolumes()).Volumes?.map((v) => v.Name) ?? [];
    expect(names).not.toContain(`${dead}_leftover`);
    expect(names).toContain(kg.volumes.postgres);
    const after = await current();
    expect(after).toEqual(kg);
    expect(await digests(after)).toEqual([kg.checksums.postgres]);
  }, 120_000);

  test("a newer release advances it over a copy: the rows written before are still there", async () => {
    const before = await current();
    await release(V2);
    const row = await sweep();
    expect(row).toMatchObject({ verdict: "pass" });
    expect(row.warm).toMatchObject({ action: "advanced", from: V1, version: V2 });
    const kg = await current();
    expect(kg.version).toBe(V2);
    expect(kg.id).not.toBe(before.id);
    // The old known-good is gone once the new one is kept: one per recipe.
    expect((await listKnownGoods(host, RECIPE)).map((k) => k.id)).toEqual([kg.id]);
    expect((await host.docker.listVolumes()).Volumes?.map((v) => v.Name)).not.toContain(
      before.volumes.postgres,
    );
    const volume = kg.volumes.postgres as string;
    expect(await digests(kg)).toEqual([kg.checksums.postgres]);
    // Aged data: the first sweep's row, the advance's pre-upgrade row, and the advance's own row.
    expect(await volumeHolds(volume, `aged-row written under ${V1}`)).toBe(true);
    expect(await volumeHolds(volume, `written under ${V1} before the upgrade`)).toBe(true);
    expect(await volumeHolds(volume, `aged-row written under ${V2}`)).toBe(true);
    // The same secret value carried on: the data's password still opens it.
    expect(kg.secrets.db_password_v1).toBe(before.secrets.db_password_v1);
  }, 900_000);

  test("a broken newer release leaves the old known-good in place (version and checksums unchanged)", async () => {
    const before = await current();
    const digestsBefore = await digests(before);
    await release(V3);
    const row = await sweep();
    expect(row.warm).toMatchObject({ action: "advance-failed", from: V2, version: V2 });
    expect(row.warm?.reason).toMatch(/upgrade failed/);
    const after = await current();
    expect(after).toEqual(before);
    expect(await digests(after)).toEqual(digestsBefore);
    expect(digestsBefore).toEqual([before.checksums.postgres]);
  }, 900_000);

  test("quick mode upgrades a copy of the known-good to the PR head; the known-good is untouched", async () => {
    const before = await current();
    const results = await runRecipe({
      source,
      repo,
      pr: 7,
      stages: SEEDED_STAGES,
      hostUrl: lab.dockerHost,
      warm: { fromKnownGood: true },
    });
    expect(results.outcome).toBe("pass");
    expect(results.versions.base).toBe(V2);
    expect(results.versions.baseReason).toBe(`the known-good's release (kept ${before.keptAt})`);
    expect(results.tiers.upgrade.status).toBe("pass");
    expect(results.residue).toEqual([]);
    const after = await current();
    expect(after).toEqual(before);
    expect(await digests(after)).toEqual([before.checksums.postgres]);
  }, 600_000);

  test("quick mode without a known-good is a configuration error that says what to do", async () => {
    const dropped = await dropRecipe(host, RECIPE);
    expect(dropped.map((k) => k.version)).toEqual([V2]);
    await expect(dropRecipe(host, RECIPE)).rejects.toThrow(/no known-good for warm-pg/);
    const results = await runRecipe({
      source,
      repo,
      pr: 7,
      stages: SEEDED_STAGES,
      hostUrl: lab.dockerHost,
      warm: { fromKnownGood: true },
    });
    expect(results.outcome).toBe("error");
    expect(results.errorKind).toBe("config");
    expect(results.error).toMatch(/no known-good yet for warm-pg/);
  }, 120_000);
});
