// biome-ignore-all lint/suspicious/noTemplateCurlyInString: env and compose text holds literal ${VAR} references
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Redactor } from "@taster/core";
import { ensureLab, type LabInfo } from "@taster/lab";
import {
  connectHost,
  deployStack,
  ensureSecrets,
  findResidue,
  type Host,
  janitor,
  type Plan,
  planRecipe,
  teardownStack,
} from "../src/index";
import { removeTempDirs, tempDir } from "./helpers";

let lab: LabInfo;
let host: Host;
// Every stack of this test starts with the prefix, and the janitor is scoped to it.
const prefix = `swjn${process.pid}`;
const dead = `${prefix}a`;
const live = `${prefix}b`;
const crashed = `${prefix}c`;

beforeAll(async () => {
  lab = await ensureLab();
  host = await connectHost(lab.dockerHost);
});

afterAll(async () => {
  for (const stack of [dead, live, crashed]) await teardownStack(host, stack).catch(() => {});
  await host.close();
  await removeTempDirs();
});

async function fixturePlan(stack: string): Promise<Plan> {
  const dir = await tempDir("jn");
  const compose = [
    'version: "3.8"',
    "services:",
    "  app:",
    `    image: ${lab.images.web[0]}`,
    "    secrets: [token]",
    "secrets:",
    "  token:",
    "    external: true",
    "    name: ${STACK_NAME}_token_v1",
  ];
  await writeFile(join(dir, "compose.yml"), `${compose.join("\n")}\n`);
  return planRecipe(host, { dir, stack, domain: `${stack}.test` });
}

describe("janitor", () => {
  it("finds Taster stacks with no live run (deployed, or left half-made by a crash) and removes only those", async () => {
    const redactor = new Redactor();
    for (const stack of [dead, live]) {
      const plan = await fixturePlan(stack);
      await ensureSecrets(host, plan, redactor);
      await deployStack(host, plan, { chaos: false, chaosVersion: "abc" });
    }
    // A run that crashed after creating its secret, before deploying.
    await ensureSecrets(host, await fixturePlan(crashed), redactor);

    const options = { live: new Set([live]), prefix };
    expect(await janitor(host, { ...options, dryRun: true })).toEqual([dead, crashed]);
    expect(await findResidue(host, dead)).not.toEqual([]);

    expect(await janitor(host, { ...options, dryRun: false })).toEqual([dead, crashed]);
    expect(await findResidue(host, dead)).toEqual([]);
    expect(await findResidue(host, crashed)).toEqual([]);
    expect(await findResidue(host, live)).toContain(`service ${live}_app`);
    expect(await janitor(host, { ...options, dryRun: true })).toEqual([]);
  });
});
