import { describe, expect, test } from "@jest/globals";
import type { Plan, PlannedService } from "@taster/swarm";
import { resolveServing } from "../src/serving";

const service = (name: string, labels: Record<string, string> = {}): PlannedService => ({
  name,
  fullName: `s_${name}`,
  image: "x",
  labels,
  mounts: [],
  networks: ["proxy"],
});
const planOf = (...services: PlannedService[]) =>
  ({ services, appService: services.some((s) => s.name === "app") ? "app" : services[0]?.name }) as Plan;

const routed = (port: string) => ({
  "traefik.enable": "true",
  "traefik.http.services.s.loadbalancer.server.port": port,
  "traefik.http.routers.s.rule": "Host(`a.example`) || Host(`b.example`)",
});

describe("the serving target, read as the proxy reads the recipe", () => {
  test("the routed service, the label's port and the rule's first host", () => {
    expect(resolveServing(planOf(service("db"), service("web", routed("8080"))), {})).toEqual({
      service: "web",
      port: 8080,
      host: "a.example",
      from: {
        service: "the service with traefik.enable=true",
        port: "traefik label on web",
        host: "traefik router rule on web",
      },
    });
  });

  test("no label: app on port 80 without a Host header", () => {
    const s = resolveServing(planOf(service("db"), service("app")), {});
    expect([s.service, s.port, s.host]).toEqual(["app", 80, undefined]);
    expect(s.from.port).toBe("the default (no loadbalancer.server.port label on app)");
  });

  test("taster.yml overrides each value, and says so", () => {
    const s = resolveServing(planOf(service("app", routed("8080"))), {
      healthService: "app",
      healthPort: 9000,
      healthHost: "other.example",
    });
    expect([s.port, s.host, s.from.port, s.from.host]).toEqual([
      9000,
      "other.example",
      "taster.yml healthPort",
      "taster.yml healthHost",
    ]);
  });

  test("a rule host that is not a plain host name is never sent as a header", () => {
    const labels = { ...routed("8080"), "traefik.http.routers.s.rule": "Host(`a.example\r\nX-Evil: 1`)" };
    expect(resolveServing(planOf(service("app", labels)), {}).host).toBeUndefined();
  });
});
