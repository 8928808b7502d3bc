import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo } from "@taster/lab";
import { connectHost, DeployLedger, deployStack, type Host, planRecipe, teardownStack } from "../src/index";
import { removeTempDirs, tempDir, uniqueStack } from "./helpers";

let lab: LabInfo;
let host: Host;
const stack = uniqueStack("dl");
const abra = { chaos: false, chaosVersion: "0000000" };

beforeAll(async () => {
  lab = await ensureLab();
  host = await connectHost(lab.dockerHost);
});

afterAll(async () => {
  expect(await teardownStack(host, stack)).toEqual({ residue: [] });
  await host.close();
  await removeTempDirs();
});

/** A one-service recipe; `extra` lines go under the service. */
async function recipe(tag: string, extra: string[] = []) {
  const dir = await tempDir(tag);
  const service = ["image: taster-lab/web:1.0", ...extra];
  const compose = ['version: "3.8"', "services:", "  app:", ...service.map((line) => `    ${line}`)];
  await writeFile(join(dir, "compose.yml"), `${compose.join("\n")}\n`);
  return planRecipe(host, { dir, stack, domain: `${stack}.test` });
}

describe("each run counts its own deployments", () => {
  it("two ledgers deploying the same stack name never see each other's deploys", async () => {
    const plan = await recipe("dl-ok");
    const first = new DeployLedger();
    const retest = new DeployLedger();
    await deployStack(host, plan, abra, { ledger: first });
    await deployStack(host, plan, abra, { ledger: first });
    await deployStack(host, plan, abra, { ledger: retest });
    await deployStack(host, plan, abra); // no ledger: counted nowhere
    expect(first.count(stack)).toBe(2);
    expect(retest.count(stack)).toBe(1);
    expect(retest.count(`${stack}-fresh`)).toBe(0);
  });

  it("a deploy the engine refuses is not counted", async () => {
    const plan = await recipe("dl-bad", ["deploy:", "  resources:", "    limits:", '      cpus: "lots"']);
    const ledger = new DeployLedger();
    await expect(deployStack(host, plan, abra, { ledger })).rejects.toThrow(/failed/);
    expect(ledger.count(stack)).toBe(0);
  });
});
