/**
 * Keeping a green run as its recipe's warm known-good, just before teardown: the services are
 * stopped (the data is consistent and nothing writes any more), each stack volume is copied into a
 * Taster-owned warm volume, and one config records the app env, the secret values and a digest per
 * volume. Only then are the recipe's older known-goods removed: a keep that fails leaves the
 * previous known-good as it was.
 */
import { errorMessage, type TasterError } from "@taster/core";
import {
  copyVolumes,
  createWarmVolume,
  dropKnownGood,
  type KnownGood,
  listKnownGoods,
  newWarmId,
  stopStackServices,
  writeKnownGood,
} from "@taster/swarm";
import type { Live } from "../run/live";
import { buildResults } from "../run/outputs";
import type { Session } from "../run/session";
import { ownVolumes } from "./seed";
import { warmState } from "./state";
import type { KeepOutcome } from "./types";

/** Called by runRecipe after the verdict, before teardown; never throws (the verdict stands). */
export async function keepIfGreen(
  session: Session,
  startedAt: Date,
  failure: TasterError | null,
): Promise<void> {
  const warm = session.opts.warm;
  if (!warm?.keep) return;
  const outcome = await keepOutcome(session, startedAt, failure);
  if (outcome.kept) {
    session.log.event("warm", `kept as the known-good ${outcome.kept.version} (${outcome.kept.id})`);
  } else session.log.event("warm", `not kept: ${outcome.reason}`);
  warm.onKept?.(outcome);
}

async function keepOutcome(
  session: Session,
  startedAt: Date,
  failure: TasterError | null,
): Promise<KeepOutcome> {
  const results = buildResults(session, { startedAt, failure, residue: [], teardownMs: 0 });
  if (results.outcome !== "pass") return { kept: null, reason: `the run did not pass (${results.outcome})` };
  const live = session.held.live as Live | null;
  const host = session.held.host;
  if (!live || !host) return { kept: null, reason: "nothing was deployed" };
  try {
    const kg = await keep(session, live);
    const dropped: string[] = [];
    for (const old of await listKnownGoods(host, session.recipe)) {
      if (old.id === kg.id) continue;
      await dropKnownGood(host, session.recipe, old.id);
      dropped.push(`${old.version} (${old.id})`);
    }
    return { kept: kg, dropped };
  } catch (error) {
    return { kept: null, reason: `keeping the data failed: ${errorMessage(error)}` };
  }
}

async function keep(session: Session, live: Live): Promise<KnownGood> {
  const { host, plan } = live.app;
  const { recipe } = session;
  session.log.event("warm", `stopping ${plan.stack}'s services to keep its data`);
  await stopStackServices(host, plan.stack);
  const id = newWarmId();
  try {
    return await copyOut(session, live, id);
  } catch (error) {
    // Half a known-good is none: its volumes go, the previous known-good stays as it was.
    await dropKnownGood(host, recipe, id).catch(() => undefined);
    throw error;
  }
}

async function copyOut(session: Session, live: Live, id: string): Promise<KnownGood> {
  const { host, plan } = live.app;
  const { recipe, record } = session;
  const own = ownVolumes(plan);
  const volumes: Record<string, string> = {};
  for (const key of Object.keys(own)) volumes[key] = await createWarmVolume(host, recipe, id, key);
  const keys = Object.keys(own);
  const facts = await copyVolumes(
    host,
    keys.map((key) => ({ from: own[key] as string, to: volumes[key] as string })),
    live.app.probeImage,
  );
  const kg: KnownGood = {
    recipe,
    version: record.versions.head,
    sha: record.names.sha,
    stack: plan.stack,
    appEnv: { text: live.appEnv.text, name: live.appEnv.name },
    secrets: { ...warmState(session).secrets },
    volumes,
    checksums: Object.fromEntries(keys.map((key, i) => [key, facts[i]?.digest ?? ""])),
    sizes: Object.fromEntries(keys.map((key, i) => [key, facts[i]?.kib ?? 0])),
    keptAt: new Date().toISOString(),
    id,
  };
  await writeKnownGood(host, kg);
  return kg;
}
