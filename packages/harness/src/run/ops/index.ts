import type { Tier } from "@taster/core";
import { backupOp } from "./backup";
import { customOp } from "./custom";
import { installOp } from "./install";
import type { TierOp } from "./op";
import { restoreOp } from "./restore";
import { upgradeOp } from "./upgrade";

export type { InstallOp, Op, TierOp } from "./op";

/** Each tier's op, in the order the lifecycle runs them (core's TIERS). */
export const OPS: Record<Tier, TierOp> = {
  install: installOp,
  upgrade: upgradeOp,
  backup: backupOp,
  restore: restoreOp,
  custom: customOp,
};
