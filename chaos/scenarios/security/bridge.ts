import type { Scenario } from "../scenario";

/** Security scenarios (issue 12): filled in by the work on this area. */
export const SCENARIOS: Scenario[] = [];
