import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo } from "@taster/lab";
import {
  connectHost,
  deployStack,
  type Host,
  planRecipe,
  teardownStack,
  updateState,
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
  for (const stack of stacks) expect(await teardownStack(host, stack)).toEqual({ residue: [] });
  await host.close();
  await removeTempDirs();
});

/** A one-service recipe whose update may roll back; `greeting` changes the spec between deploys. */
async function fixture(dir: string, greeting: string): Promise<void> {
  const compose = [
    'version: "3.8"',
    "services:",
    "  app:",
    `    image: ${lab.images.web[0]}`,
    `    environment: [GREETING=${greeting}]`,
    "    healthcheck:",
    '      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]',
    "      interval: 1s",
    "    deploy:",
    "      update_config:",
    "        failure_action: rollback",
    "        monitor: 3s",
  ];
  await writeFile(join(dir, "compose.yml"), `${compose.join("\n")}\n`);
}

describe("an in-place update of a service that may roll back", () => {
  it("converges only once swarm's monitor window has passed without a rollback", async () => {
    const dir = await tempDir("upd");
    const stack = uniqueStack("upd");
    stacks.push(stack);
    await fixture(dir, "one");
    const first = await planRecipe(host, { dir, stack, domain: `${stack}.test` });
    await deployStack(host, first, { chaos: false, chaosVersion: "1" });
    await waitForConvergence(host, first, { timeoutSeconds: 60 });

    await fixture(dir, "two");
    const second = await planRecipe(host, { dir, stack, domain: `${stack}.test` });
    await deployStack(host, second, { chaos: true, chaosVersion: "2" });
    await waitForConvergence(host, second, { timeoutSeconds: 60 });
    expect(await updateState(host, second)).toEqual({ app: "completed" });
  });
});
