export { keepIfGreen } from "./keep";
export { NO_KNOWN_GOOD_HINT } from "./seed";
export { SEEDED_STAGES, type WarmSweep, warmSweep } from "./sweep";
export type { KeepOutcome, WarmRunOptions } from "./types";
