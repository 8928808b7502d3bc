/** Every scenario of the reliability scorecard, in the order a round runs them. */
import { FORGE_SCENARIOS } from "./forge";
import { INFRA_SCENARIOS } from "./infra";
import { INPUT_SCENARIOS } from "./input";
import { LOAD_SCENARIOS } from "./load";
import { MIXED_FORGE_SCENARIOS } from "./mixed-forge";
import { OVERLAY_SCENARIOS } from "./overlays";
import { RECIPE_SCENARIOS } from "./recipe";
import type { Scenario } from "./scenario";
import { SECURITY_SCENARIOS } from "./security";
import { WORKER_SCENARIOS } from "./workers";

export type { Scenario } from "./scenario";

export const SCENARIOS: Scenario[] = [
  ...INPUT_SCENARIOS,
  ...FORGE_SCENARIOS,
  ...RECIPE_SCENARIOS,
  ...OVERLAY_SCENARIOS,
  ...WORKER_SCENARIOS,
  ...INFRA_SCENARIOS,
  ...LOAD_SCENARIOS,
  ...MIXED_FORGE_SCENARIOS,
  ...SECURITY_SCENARIOS,
];
