import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Redactor } from "@taster/core";
import { ensureLab, type LabInfo } from "@taster/lab";
import {
  backupStack,
  connectHost,
  deployStack,
  ensureSecrets,
  execInService,
  findResidue,
  type Host,
  type Plan,
  planRecipe,
  restoreStack,
  teardownStack,
  waitForConvergence,
} from "../src/index";
import { checkout, headSha, removeTempDirs, tempDir, uniqueStack } from "./helpers";

let lab: LabInfo;
let host: Host;
const stack = uniqueStack("nt");
const redactor = new Redactor();

beforeAll(async () => {
  lab = await ensureLab();
  host = await connectHost(lab.dockerHost);
});

afterAll(async () => {
  await teardownStack(host, stack).catch(() => {});
  await host.close();
  await removeTempDirs();
});

describe("notes (app + db, secret, templated config, DB-style backup hooks) on the lab swarm", () => {
  let plan: Plan;

  it("creates the versioned secret with a value of the hinted length, known only to the redactor", async () => {
    const dir = await checkout(lab, "notes", "0.2.0+2.1");
    plan = await planRecipe(host, { dir, stack, domain: `${stack}.test` });
    expect((await ensureSecrets(host, plan, redactor)).map((s) => s.fullName)).toEqual([
      `${stack}_db_password_v1`,
    ]);
    // A second call finds it and creates nothing.
    expect(await ensureSecrets(host, plan, redactor)).toEqual([]);
    await deployStack(host, plan, { chaos: false, chaosVersion: await headSha(dir) });
    await waitForConvergence(host, plan, { timeoutSeconds: 90 });

    const secret = await execInService(host, stack, "app", ["cat", "/run/secrets/db_password"]);
    expect(secret.exitCode).toBe(0);
    expect(secret.stdout).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(redactor.contains(secret.stdout)).toBe(true);
    expect(redactor.redact(`password=${secret.stdout}`)).toBe("password=[redacted]");
  });

  it("renders the golang-templated config with the app env", async () => {
    const conf = await execInService(host, stack, "app", ["cat", "/etc/notes/app.conf"]);
    expect(conf.stdout).toContain(`domain = ${stack}.test`);
    expect(conf.stdout).toContain("db_host = db");
  });

  it("backs up through the pre-hook dump and restores the seeded notes via the post-hook", async () => {
    await execInService(host, stack, "db", ["sh", "-c", "echo seeded-note > /var/lib/notes/notes.db"]);
    const artifact = await backupStack(host, plan, await tempDir("nt-backup"));
    expect(artifact.entries).toEqual([{ service: "db", paths: ["db_data/dump"] }]);
    // The post-hook removed the dump again inside the container.
    const dump = await execInService(host, stack, "db", ["ls", "/var/lib/notes/dump"]);
    expect(dump.stdout).toBe("");

    await execInService(host, stack, "db", ["sh", "-c", "echo mutated > /var/lib/notes/notes.db"]);
    await restoreStack(host, plan, artifact);
    const notes = await execInService(host, stack, "db", ["cat", "/var/lib/notes/notes.db"]);
    expect(notes.stdout).toBe("seeded-note\n");
  });

  it("tears down services, network, secret, config and volume: zero residue", async () => {
    const before = await findResidue(host, stack);
    expect(before).toEqual(
      expect.arrayContaining([
        `secret ${stack}_db_password_v1`,
        `config ${stack}_app_conf_v1`,
        `volume ${stack}_db_data`,
        `network ${stack}_internal`,
      ]),
    );
    expect(await teardownStack(host, stack)).toEqual({ residue: [] });
  });
});
