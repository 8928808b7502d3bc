import type Dockerode from "dockerode";

/**
 * The engine's event stream (container and service events), which convergence and teardown wait
 * on instead of polling: one `docker events` request per wait.
 */
/** One engine event, as much of it as Taster reads. */
export interface EngineEvent {
  Type?: string;
  Action?: string;
  timeNano?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/**
 * Whether an event may change the state of one of `services` (full swarm service names). A
 * healthcheck's probe runs as an exec (exec_create, exec_start, exec_die every interval): it changes
 * nothing by itself, and the health_status event that a changed result brings follows at once —
 * a look taken on the exec's event would only delay the look that event needs.
 */
export function relevant(event: EngineEvent, services: Set<string>): boolean {
  const attributes = event.Actor?.Attributes ?? {};
  if (event.Type === "container")
    return (
      !event.Action?.startsWith("exec_") && services.has(attributes["com.docker.swarm.service.name"] ?? "")
    );
  if (event.Type === "service") return services.has(attributes.name ?? "");
  return false;
}

/** A line-delimited JSON event stream with `event` emissions and a `close()`. */
export interface EventFeed {
  on(name: "event", listener: (event: EngineEvent) => void): void;
  on(name: "error", listener: (error: Error) => void): void;
  close(): void;
}

/** Opens the event stream from `sinceMs` on (events already past are replayed by the engine). */
export async function openEvents(docker: Dockerode, sinceMs: number): Promise<EventFeed> {
  const stream = (await docker.getEvents({
    since: Math.floor(sinceMs / 1000),
    filters: { type: ["container", "service"] },
  })) as NodeJS.ReadableStream & { destroy?: () => void };
  const listeners: ((event: EngineEvent) => void)[] = [];
  let buffered = "";
  stream.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) for (const listener of listeners) listener(JSON.parse(line) as EngineEvent);
      newline = buffered.indexOf("\n");
    }
  });
  return {
    on(name: "event" | "error", listener: ((event: EngineEvent) => void) | ((error: Error) => void)) {
      if (name === "event") listeners.push(listener as (event: EngineEvent) => void);
      else stream.on("error", listener as (error: Error) => void);
    },
    close: () => stream.destroy?.(),
  };
}
