import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo } from "@taster/lab";
import {
  checkVips,
  connectHost,
  deployStack,
  type EndpointMode,
  endpointModeFor,
  type Host,
  overlayCompose,
  planRecipe,
  recordedVipCheck,
  teardownStack,
  waitForConvergence,
} from "../src/index";
import { removeTempDirs, tempDir, uniqueStack } from "./helpers";

let lab: LabInfo;
let host: Host;
const stacks: string[] = [];

beforeAll(async () => {
  lab = await ensureLab();
  host = await connectHost(lab.dockerHost);
});

afterAll(async () => {
  for (const stack of stacks) await teardownStack(host, stack).catch(() => {});
  await host.close();
  await removeTempDirs();
});

/**
 * Two services that talk the way recipes do: `app` is healthy only once it reaches `db` by its
 * service name (through a VIP, or through DNS round robin on a host without VIPs).
 */
const BY_NAME = `
version: "3.8"
services:
  app:
    image: taster-lab/web:1.0
    command: ["/bin/idle"]
    healthcheck:
      test: ["CMD", "sh", "-c", "timeout 2 wget -q -O /dev/null http://db/"]
      interval: 1s
      timeout: 3s
      retries: 20
  db:
    image: taster-lab/web:1.0
    command: ["sh", "-c", "mkdir -p /tmp/w && echo ok >/tmp/w/index.html && exec httpd -f -p 80 -h /tmp/w"]
`;

describe("hosts without working swarm VIPs", () => {
  it("are measured, and the measurement is recorded on the manager node", async () => {
    const check = await checkVips(host, { record: true });
    expect(check.detail).toMatch(
      check.working ? /virtual IP/ : /tasks\.<name> but not through its virtual IP/,
    );
    const recorded = await recordedVipCheck(host);
    expect(recorded).toEqual(expect.objectContaining({ working: check.working, checkedAt: check.checkedAt }));
    expect(await endpointModeFor(host)).toBe(check.working ? "vip" : "dnsrr");
    // Nothing of the check is left on the engine.
    const networks = await host.docker.listNetworks({ filters: { label: ["taster.role=vip-check"] } });
    expect(networks).toEqual([]);
  }, 90_000);

  it("get services that reach each other by name, without the recipe being edited", async () => {
    const mode: EndpointMode = await endpointModeFor(host);
    const dir = await tempDir("vip");
    await writeFile(join(dir, "compose.yml"), BY_NAME);
    const stack = uniqueStack("vip");
    stacks.push(stack);
    const plan = await planRecipe(host, { dir, stack, domain: `${stack}.test` });
    await deployStack(host, plan, { chaos: false, chaosVersion: "1" }, { endpointMode: mode });
    await waitForConvergence(host, plan, { timeoutSeconds: 60 });
    const inspected = await host.docker.getService(`${stack}_db`).inspect();
    expect(inspected.Spec?.EndpointSpec?.Mode ?? "vip").toBe(mode);
  }, 120_000);

  it("say so only in Taster's own overlay compose file", () => {
    const plan = {
      stack: "s",
      appService: "app",
      services: [{ name: "app" }, { name: "db" }],
      rendered: {},
    } as unknown as Parameters<typeof overlayCompose>[0];
    const abra = { chaos: false, chaosVersion: "1" };
    const dnsrr = overlayCompose(plan, abra, "dnsrr") as { services: Record<string, { deploy: object }> };
    expect(dnsrr.services.db?.deploy).toEqual(expect.objectContaining({ endpoint_mode: "dnsrr" }));
    const vip = overlayCompose(plan, abra, "vip") as { services: Record<string, { deploy: object }> };
    expect(vip.services.db?.deploy).not.toHaveProperty("endpoint_mode");
  });
});
