/** Hostile recipe-shipped test code: hangs, leaks, escapes. */
import type { Scenario } from "./scenario";

export const OVERLAY_SCENARIOS: Scenario[] = [];
