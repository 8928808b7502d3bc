import { createLogger } from "@taster/core";

/** The swarm layer's own log, for clean-up it tolerates (debug level: TASTER_LOG_LEVEL=debug shows it). */
export const swarmLog = createLogger("swarm");

/** Says a tolerated failure at debug level. */
export const debugLine = (line: string) => swarmLog.debug(line);
