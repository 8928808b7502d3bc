/**
 * A run seeded from its recipe's warm known-good (`!testme quick`, the sweep's advance): the
 * known-good's release is the upgrade base, installed over COPIES of its volumes with its app env
 * and secret values — the app as an operator's host has it after the last good release — and the
 * upgrade tier then deploys the head over that aged data. The known-good is read, never mounted.
 */
import { configError } from "@taster/core";
import type { AppEnvFile, Settings } from "@taster/recipe";
import {
  copyVolumes,
  createStackVolume,
  type EnsureSecretsOptions,
  type Host,
  type KnownGood,
  knownGoodOf,
  missingVolumes,
  type Plan,
} from "@taster/swarm";
import { connectRunHost } from "../run/options";
import type { Session } from "../run/session";
import { warmState } from "./state";

export const NO_KNOWN_GOOD_HINT = "run a sweep (taster sweep) to keep one, or use !testme for a full run";

/**
 * The settings a seeded run uses: its known-good's release as the upgrade base. Looks the
 * known-good up (a short connection of its own: the run's host comes later); no known-good is a
 * configuration error, said plainly.
 */
export async function seededSettings(session: Session, settings: Settings): Promise<Settings> {
  if (!session.opts.warm?.fromKnownGood) return settings;
  const { recipe } = session;
  if (!settings.warm) {
    throw configError(
      `quick mode needs a warm known-good, and ${recipe} is not warm (no \`warm: true\` in recipes-tests/${recipe}/taster.yml)`,
      "add warm: true to the recipe's taster.yml and run a sweep, or use !testme",
    );
  }
  if (settings.na.upgrade || !session.stages.includes("upgrade")) {
    throw configError(`quick mode upgrades a copy of ${recipe}'s known-good: the upgrade tier must run`);
  }
  const host = await connectRunHost(session.opts);
  try {
    const kg = await knownGoodOf(host, recipe);
    if (!kg) throw configError(`no known-good yet for ${recipe} on this host: ${NO_KNOWN_GOOD_HINT}`);
    const gone = await missingVolumes(host, Object.values(kg.volumes));
    if (gone.length > 0) {
      throw configError(
        `the known-good of ${recipe} (${kg.version}) lost its volume(s) ${gone.join(", ")}`,
        `taster warm drop ${recipe}, then run a sweep`,
      );
    }
    warmState(session).seed = kg;
    session.log.event(
      "warm",
      `seeded from the known-good ${kg.version} kept ${kg.keptAt} (${Object.keys(kg.volumes).length} volume(s), copied, never mounted)`,
    );
    return { ...settings, upgradeBase: kg.version };
  } finally {
    await host.close();
  }
}

/** The known-good this run was seeded from, or null. */
export const seedOf = (run: Pick<Session, "record">): KnownGood | null => warmState(run).seed;

/** The app env of a seeded install: the known-good's, as the operator's .env stands. */
export function seededAppEnv(seed: KnownGood): AppEnvFile {
  return { text: seed.appEnv.text, name: `${seed.appEnv.name} (kept with the known-good)`, added: [] };
}

/** The plan's own volumes (compose key → full name), external ones left out. */
export function ownVolumes(plan: Plan): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, spec] of Object.entries(plan.rendered.volumes ?? {})) {
    if (spec?.external) continue;
    out[key] = spec?.name ?? `${plan.stack}_${key}`;
  }
  return out;
}

/** What seeding needs of a prepared run (not the type itself: prepare.ts imports this module). */
interface SeedTarget extends Pick<Session, "log" | "record"> {
  readonly host: Host;
  readonly stack: string;
  readonly probeImage: string | null;
}

/** Creates the stack's volumes as copies of the known-good's, before the first deploy. */
export async function seedVolumes(run: SeedTarget, plan: Plan, seed: KnownGood): Promise<void> {
  const own = ownVolumes(plan);
  const copies = Object.entries(seed.volumes)
    .filter(([key]) => key in own)
    .map(([key, from]) => ({ from, to: own[key] as string }));
  // The base is the known-good's release because of the seed, not because taster.yml says so.
  run.record.versions.baseReason = `the known-good's release (kept ${seed.keptAt})`;
  for (const { to } of copies) await createStackVolume(run.host, run.stack, to);
  await copyVolumes(run.host, copies, run.probeImage ?? undefined);
  run.log.event("warm", `copied ${copies.length} known-good volume(s) into ${run.stack}`);
}

/** ensureSecrets options of a warm run: the known-good's values reused, every value made noted. */
export function warmSecrets(run: Pick<Session, "record" | "opts">): Partial<EnsureSecretsOptions> {
  if (!run.opts.warm) return {};
  const state = warmState(run);
  return {
    ...(state.seed ? { kept: state.seed.secrets } : {}),
    onCreate: (key, value) => {
      state.secrets[key] = value;
    },
  };
}
