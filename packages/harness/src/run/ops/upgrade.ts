import { TasterError } from "@taster/core";
import { type Plan, readAppLabels, updateState } from "@taster/swarm";
import { planOperatorUpgrade } from "../../operator-upgrade";
import { naTier, type TierResult } from "../../results";
import type { Live } from "../live";
import type { PreparedRun } from "../prepare";
import { notDeployed, type Op } from "./op";

/** Chaos-deploy the PR head over the base with the app's .env, as an operator's upgrade would. */
export async function upgradeOp(run: PreparedRun, live: Live | null): Promise<Op | TierResult> {
  if (!run.base) {
    return naTier(run.settings.upgradeBase === "none" ? "declared" : "not-applicable", run.baseReason);
  }
  if (!live) return notDeployed();
  const upgrade = await planOperatorUpgrade({
    host: run.host,
    stack: run.stack,
    domain: run.domain,
    overrides: run.settings.env,
    appEnv: live.appEnv,
    base: { tag: run.base.tag, dir: run.base.dir, plan: live.app.plan },
    headDir: run.checkoutDir,
    headVersion: run.headVersion,
    renders: run.renders,
  });
  const head = upgrade.plan;
  for (const step of upgrade.applied) run.log.event("app-env", step, "upgrade");
  run.manifest.appEnv?.added.push(...upgrade.env.added);
  const noted = upgrade.applied.length ? ` (release note: ${upgrade.applied.join("; ")})` : "";
  return {
    name: `chaos-deploy the PR head ${run.chaos} over ${run.base.tag} with the app's .env and converge${noted}`,
    plan: head,
    deployed: `→ head ${run.chaos}`,
    run: async () => {
      live.app.plan = head;
      live.appEnv = upgrade.env;
      const before = run.ledger.count(head.stack);
      try {
        await live.deploy(head, { chaos: true, chaosVersion: run.chaos }, upgrade.secretsToCreate);
      } finally {
        // Only a redeploy that really happened is an upgrade redeploy, not a second fresh deployment.
        run.record.upgradeRedeploys += run.ledger.count(head.stack) - before;
      }
      await proveUpgrade(run, head);
    },
  };
}

/** The upgrade once "passed" by redeploying the base: prove the head is what runs now. */
async function proveUpgrade(run: PreparedRun, head: Plan): Promise<void> {
  const labels = await readAppLabels(run.host, head);
  const deployed = labels[`coop-cloud.${head.stack}.chaos-version`];
  if (deployed !== run.chaos) {
    throw new TasterError(
      "test",
      `upgrade did not take: deployed chaos-version is ${deployed ?? "missing"}, the head is ${run.chaos}`,
    );
  }
  const states = Object.entries(await updateState(run.host, head));
  const rolledBack = states.filter(([, s]) => s && /rollback/.test(s));
  if (rolledBack.length > 0) {
    throw new TasterError(
      "test",
      `upgrade rolled back: ${rolledBack.map(([n, s]) => `${n} ${s}`).join(", ")}`,
    );
  }
}
