/** Moved to @taster/report (every surface shows it); re-exported for the engine's callers. */
export { type NotRunNotice, repoLocalNotRun } from "@taster/report";
