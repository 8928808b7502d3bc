import { createLogger } from "@taster/core";

/**
 * The queue layer's own service log, for what it recovers from by itself (a lock not released, a
 * connection blip): debug level, so it is there when TASTER_LOG_LEVEL=debug asks for it.
 */
export const queueLog = createLogger("queue");
