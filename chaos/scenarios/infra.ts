/** Redis, the Docker engine and the SSH link going away. */
import type { Scenario } from "./scenario";

export const INFRA_SCENARIOS: Scenario[] = [];
