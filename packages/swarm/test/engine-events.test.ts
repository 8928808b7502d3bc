import { describe, expect, it } from "@jest/globals";
import { type EngineEvent, relevant } from "../src/index";

// Events as `docker events --format '{{json .}}'` prints them for a swarm task's container with a
// healthcheck (attributes trimmed to those read).
const container = (Action: string, service = "hello_app"): EngineEvent => ({
  Type: "container",
  Action,
  Actor: { ID: "4f1c…", Attributes: { "com.docker.swarm.service.name": service, name: `${service}.1.x` } },
});
const services = new Set(["hello_app", "hello_db"]);

describe("which engine events wake a convergence look", () => {
  it("a stack's container starting, dying or changing health does", () => {
    for (const action of [
      "create",
      "start",
      "die",
      "kill",
      "destroy",
      "oom",
      "health_status: healthy",
      "health_status: unhealthy",
    ])
      expect(relevant(container(action), services)).toBe(true);
    expect(
      relevant({ Type: "service", Action: "update", Actor: { Attributes: { name: "hello_db" } } }, services),
    ).toBe(true);
  });

  it("a healthcheck's probe exec does not: its result arrives as the health_status event right after", () => {
    for (const action of [
      "exec_create: /bin/sh -c wget -q -O /dev/null http://127.0.0.1:8080/",
      "exec_start: /bin/sh -c wget -q -O /dev/null http://127.0.0.1:8080/",
      "exec_die",
    ])
      expect(relevant(container(action), services)).toBe(false);
  });

  it("another stack's containers and other event types do not", () => {
    expect(relevant(container("start", "other_app"), services)).toBe(false);
    expect(
      relevant(
        { Type: "network", Action: "connect", Actor: { Attributes: { name: "hello_app" } } },
        services,
      ),
    ).toBe(false);
  });
});
