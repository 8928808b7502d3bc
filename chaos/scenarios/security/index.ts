/** Hostile pull requests and unauthenticated traffic (issue 12), one file per area. */
import type { Scenario } from "../scenario";
import { SCENARIOS as BRIDGE } from "./bridge";
import { SCENARIOS as ENV } from "./env";
import { SCENARIOS as PIN } from "./pin";
import { SCENARIOS as PUSH } from "./push";

export const SECURITY_SCENARIOS: Scenario[] = [...ENV, ...PIN, ...PUSH, ...BRIDGE];
