// biome-ignore-all lint/suspicious/noTemplateCurlyInString: env and compose text holds literal ${VAR} references
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { TasterError } from "@taster/core";
import { ensureLab, type LabInfo } from "@taster/lab";
import { connectHost, DEFAULT_TIMEOUT_SECONDS, type Host, planRecipe, RenderCache } from "../src/index";
import { checkout, removeTempDirs, tempDir } from "./helpers";

let lab: LabInfo;
let host: Host;
const stack = `swpl${process.pid}`;
const domain = "plan.test";

beforeAll(async () => {
  lab = await ensureLab();
  host = await connectHost(lab.dockerHost);
});

afterAll(async () => {
  await host.close();
  await removeTempDirs();
});

async function fixture(files: Record<string, string>): Promise<string> {
  const dir = await tempDir("plan");
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const recipeFailure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a recipe error");
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(TasterError);
      expect((error as TasterError).kind).toBe("recipe");
      return (error as Error).message;
    },
  );

describe("planRecipe (abra env + docker stack config)", () => {
  it("plans notes: COMPOSE_FILE chain, versioned secret with length hint, abra.sh config version, timeout label", async () => {
    const dir = await checkout(lab, "notes", "0.2.0+2.1");
    const plan = await planRecipe(host, { dir, stack, domain });
    expect(plan.composeFiles).toEqual(["compose.yml", "compose.healthcheck.yml"]);
    expect(plan.services.map((service) => service.name)).toEqual(["app", "db"]);
    expect(plan.appService).toBe("app");
    expect(plan.secrets).toEqual([
      {
        name: "db_password",
        fullName: `${stack}_db_password_v1`,
        length: 32,
        external: true,
        // `# length=32` and no charset: abra's default alphabet (letters and digits without l, I, O, 0, 1).
        hint: {
          length: 32,
          generate: true,
          charset: "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
        },
      },
    ]);
    expect(plan.configs).toEqual([{ name: "app_conf", fullName: `${stack}_app_conf_v1` }]);
    expect(plan.timeoutSeconds).toBe(120);
    expect(plan.backupCapable).toBe(true);
    expect([...plan.networks].sort()).toEqual(["proxy", `${stack}_internal`]);
    expect(plan.volumes).toEqual([`${stack}_db_data`]);
    const db = plan.services.find((service) => service.name === "db");
    expect(db?.mounts).toEqual([{ type: "volume", source: `${stack}_db_data`, target: "/var/lib/notes" }]);
    // The healthcheck overlay from the chain is merged in; the commented debug overlay is not.
    expect(db?.healthcheck).toBeDefined();
    expect(plan.env.NOTES_DEBUG).toBeUndefined();
    expect(plan.services.find((service) => service.name === "app")?.labels).toMatchObject({
      [`traefik.http.routers.${stack}.rule`]: `Host(\`${domain}\`)`,
      [`coop-cloud.${stack}.version`]: "0.2.0+2.1",
    });
  });

  it("takes the config version from abra.sh exports and honours env overrides", async () => {
    // What notes PR #2 does: bump the config version in abra.sh (next to shell that must not run).
    const dir = await checkout(lab, "notes", "0.2.0+2.1");
    await writeFile(
      join(dir, "abra.sh"),
      'export APP_CONF_VERSION=v2\nexit 1\nexport LATER="${APP_CONF_VERSION}-x"\n',
    );
    const plan = await planRecipe(host, {
      dir,
      stack,
      domain,
      env: { DEPLOY_TIMEOUT: "45", SECRET_DB_PASSWORD_VERSION: "v7" },
    });
    expect(plan.configs).toEqual([{ name: "app_conf", fullName: `${stack}_app_conf_v2` }]);
    expect(plan.secrets[0]?.fullName).toBe(`${stack}_db_password_v7`);
    expect(plan.timeoutSeconds).toBe(45);
    expect(plan.env.LATER).toBe("v2-x");
  });

  it("plans broken: timeout from .env.sample through the label, not backup-capable", async () => {
    const plan = await planRecipe(host, { dir: await checkout(lab, "broken"), stack, domain });
    expect(plan.timeoutSeconds).toBe(30);
    expect(plan.backupCapable).toBe(false);
    expect(plan.secrets).toEqual([]);
  });

  it("defaults: compose.yml, first service as app service, default timeout", async () => {
    const dir = await fixture({
      "compose.yml": [
        'version: "3.8"',
        "services:",
        "  web:",
        "    image: taster-lab/web:1.0",
        "  worker:",
        "    image: taster-lab/web:1.0",
      ].join("\n"),
    });
    const plan = await planRecipe(host, { dir, stack, domain });
    expect(plan.composeFiles).toEqual(["compose.yml"]);
    expect(plan.appService).toBe("web");
    expect(plan.timeoutSeconds).toBe(DEFAULT_TIMEOUT_SECONDS);
  });

  it("reports a required variable that is not set, naming the compose file", async () => {
    const dir = await fixture({
      "compose.yml": ['version: "3.8"', "services:", "  app:", "    image: ${IMAGE:?set IMAGE in .env}"].join(
        "\n",
      ),
    });
    const message = await recipeFailure(planRecipe(host, { dir, stack, domain }));
    expect(message).toContain("compose.yml");
    expect(message).toContain("set IMAGE in .env");
  });

  it("reports bad interpolation syntax", async () => {
    const dir = await fixture({
      "compose.yml": ['version: "3.8"', "services:", "  app:", "    image: ${IMAGE"].join("\n"),
    });
    expect(await recipeFailure(planRecipe(host, { dir, stack, domain }))).toMatch(
      /invalid interpolation|compose\.yml/i,
    );
  });

  it("names an unknown COMPOSE_FILE entry and its .env.sample line", async () => {
    const dir = await fixture({
      "compose.yml": ['version: "3.8"', "services:", "  app:", "    image: taster-lab/web:1.0"].join("\n"),
      ".env.sample": 'TYPE=x\nCOMPOSE_FILE="compose.yml:compose.extra.yml"\n',
    });
    const message = await recipeFailure(planRecipe(host, { dir, stack, domain }));
    expect(message).toContain('"compose.extra.yml"');
    expect(message).toContain(".env.sample:2");
  });

  it("reports a timeout label that is not a number", async () => {
    const dir = await fixture({
      "compose.yml": [
        'version: "3.8"',
        "services:",
        "  app:",
        "    image: taster-lab/web:1.0",
        "    deploy:",
        "      labels:",
        "        - coop-cloud.${STACK_NAME}.timeout=soon",
      ].join("\n"),
    });
    expect(await recipeFailure(planRecipe(host, { dir, stack, domain }))).toContain(
      `coop-cloud.${stack}.timeout=soon`,
    );
  });

  it("with a run's RenderCache, renders the same files with the same env once, and anything else anew", async () => {
    const dir = await checkout(lab, "notes", "0.2.0+2.1");
    const renders: string[][] = [];
    const counting: Host = {
      ...host,
      cli: (args, opts) => {
        renders.push(args);
        return host.cli(args, opts);
      },
    };
    const cache = new RenderCache();
    const sample = await readFile(join(dir, ".env.sample"), "utf8");
    // lint's plan (the recipe's .env.sample), then install's (an app .env with the same text).
    const first = await planRecipe(counting, { dir, stack, domain, renders: cache });
    const again = await planRecipe(counting, {
      dir,
      stack,
      domain,
      renders: cache,
      envFile: { text: sample, name: ".env (from 0.2.0+2.1's .env.sample)" },
    });
    expect(renders).toHaveLength(1);
    expect(again).toEqual(first);
    expect(again.rendered).not.toBe(first.rendered);
    // A line more in the app env (a release note's), another stack, or no cache: rendered again.
    await planRecipe(counting, {
      dir,
      stack,
      domain,
      renders: cache,
      envFile: { text: `${sample}\nEXTRA=1\n`, name: ".env" },
    });
    await planRecipe(counting, { dir, stack: `${stack}x`, domain, renders: cache });
    await planRecipe(counting, { dir, stack, domain });
    expect(renders).toHaveLength(4);
  });
});
