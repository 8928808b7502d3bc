import { chaosVersion, newAppEnv } from "@taster/recipe";
import { planRecipe } from "@taster/swarm";
import { checkBackupLabels } from "../../backup-tiers";
import { describeServing } from "../../serving";
import { seededAppEnv, seedOf, seedVolumes } from "../../warm/seed";
import type { PreparedRun } from "../prepare";
import type { InstallOp } from "./op";

/** Deploy the upgrade base (or, without one, the PR head) once: the deployment every tier shares. */
export async function installOp(run: PreparedRun): Promise<InstallOp> {
  const target = run.base;
  const dir = target?.dir ?? run.checkoutDir;
  // `abra app new`: the app's .env is the installed release's .env.sample, made once.
  // A run seeded from a warm known-good has the .env its data was written with.
  const seed = seedOf(run);
  const appEnv = seed ? seededAppEnv(seed) : await newAppEnv(dir, target?.tag ?? `the head ${run.chaos}`);
  run.manifest.appEnv = { from: appEnv.name, added: [], secrets: [] };
  const plan = await planRecipe(run.host, {
    dir,
    stack: run.stack,
    domain: run.domain,
    env: run.settings.env,
    envFile: { text: appEnv.text, name: appEnv.name },
    renders: run.renders,
  });
  checkBackupLabels(plan, run.stages, run.settings.na);
  run.manifest.backupCapable = plan.backupCapable;
  const serving = describeServing(plan, run.settings);
  run.manifest.serving = serving;
  run.log.event("manifest", `serving: ${serving}`);
  // A release deploys as a release (no chaos labels); the PR head is a chaos deploy, as with abra.
  const labels = target
    ? { chaos: false, chaosVersion: chaosVersion(target.sha) }
    : { chaos: true, chaosVersion: run.chaos };
  const app = { plan, appEnv };
  return {
    name: `deploy ${target ? `${target.tag} (upgrade base)` : `${run.headVersion} (PR head)`}${seed ? " over a copy of the known-good's data" : ""} and converge`,
    plan,
    deployed: target ? target.tag : `head ${run.chaos}`,
    app,
    run: async (live) => {
      if (seed) await seedVolumes(run, plan, seed);
      await live.deploy(plan, labels);
    },
  };
}
