import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo } from "@taster/lab";
import {
  backupStack,
  connectHost,
  DeployLedger,
  deployStack,
  execInService,
  findResidue,
  type Host,
  httpProbe,
  type Plan,
  planRecipe,
  readAppLabels,
  restoreStack,
  teardownStack,
  updateState,
  waitForConvergence,
} from "../src/index";
import { checkout, headSha, removeTempDirs, tempDir, uniqueStack } from "./helpers";

let lab: LabInfo;
let host: Host;
const stack = uniqueStack("hw");

beforeAll(async () => {
  lab = await ensureLab();
  host = await connectHost(lab.dockerHost);
});

afterAll(async () => {
  await teardownStack(host, stack).catch(() => {});
  await host.close();
  await removeTempDirs();
});

describe("hello-web on the lab swarm", () => {
  let plan: Plan;
  const ledger = new DeployLedger();

  it("deploys the 1.0.0 release once and converges on a healthy task", async () => {
    const dir = await checkout(lab, "hello-web", "1.0.0+1.0");
    plan = await planRecipe(host, { dir, stack, domain: `${stack}.test` });
    expect(plan.appService).toBe("app");
    expect(plan.backupCapable).toBe(true);
    await deployStack(host, plan, { chaos: false, chaosVersion: await headSha(dir) }, { ledger });
    expect(ledger.count(stack)).toBe(1);
    const { durationMs } = await waitForConvergence(host, plan, { timeoutSeconds: 90 });
    expect(durationMs).toBeGreaterThan(0);
    const labels = await readAppLabels(host, plan);
    // The compose-declared version stays; a release deploy carries no chaos labels (as with abra).
    expect(labels[`coop-cloud.${stack}.version`]).toBe("1.0.0+1.0");
    expect(labels[`coop-cloud.${stack}.chaos`]).toBeUndefined();
    expect(labels[`coop-cloud.${stack}.chaos-version`]).toBeUndefined();
    expect(labels["taster.stack"]).toBe(stack);
  });

  it("execs in the app container with real stdout, stderr and exit code", async () => {
    const ok = await execInService(host, stack, "app", ["cat", "/etc/web-version"]);
    expect(ok).toEqual({ stdout: "1.0\n", stderr: "", exitCode: 0 });
    const failing = await execInService(host, stack, "app", ["sh", "-c", "echo oops >&2; exit 3"]);
    expect(failing).toEqual({ stdout: "", stderr: "oops\n", exitCode: 3 });
  });

  it("answers an HTTP probe from the proxy network", async () => {
    const response = await httpProbe(host, plan, { path: "/", image: lab.images.probe });
    expect(response.status).toBe(200);
    expect(response.body).toBe("taster-lab web 1.0\n");
    expect(response.headers["content-type"]).toMatch(/text\/html/);
    const missing = await httpProbe(host, plan, { path: "/nope", image: lab.images.probe });
    expect(missing.status).toBe(404);
  });

  it("runs every probe of the stack in one kept container, made again when removed; a hanging probe stops at its timeout", async () => {
    const probeContainers = async () =>
      (await host.docker.listContainers({ all: true, filters: { label: [`taster.stack=${stack}`] } }))
        .filter((container) => container.Labels["taster.role"] === "probe")
        .map((container) => ({ id: container.Id, state: container.State }));
    const [kept, ...others] = await probeContainers();
    expect(others).toEqual([]);
    expect(kept?.state).toBe("running");

    await host.docker.getContainer(kept?.id ?? "").remove({ force: true });
    expect((await httpProbe(host, plan, { path: "/", image: lab.images.probe })).status).toBe(200);
    const [again] = await probeContainers();
    expect(again?.id).not.toBe(kept?.id);

    // A port that accepts the connection and never answers.
    await execInService(host, stack, "app", ["sh", "-c", "sleep 600 | nc -l -p 8081 >/dev/null 2>&1 &"]);
    await expect(
      httpProbe(host, plan, { path: "/", port: 8081, timeoutMs: 2_000, image: lab.images.probe }),
    ).rejects.toThrow(/HTTP probe of http:\/\/tasks\.\S+:8081\/ did not finish within 2s/);
    // The hanging wget went with its container; the next probe gets a fresh one.
    expect(await probeContainers()).toEqual([]);
    expect((await httpProbe(host, plan, { path: "/", image: lab.images.probe })).status).toBe(200);
    expect(await probeContainers()).toHaveLength(1);
  }, 60_000);

  it("backs up /var/www and restores the seeded page after it was changed", async () => {
    await execInService(host, stack, "app", ["sh", "-c", "echo seeded-marker > /var/www/marker.txt"]);
    const artifactDir = await tempDir("hw-backup");
    const artifact = await backupStack(host, plan, artifactDir);
    expect(artifact.entries).toEqual([{ service: "app", paths: ["content"] }]);
    expect(artifact.size).toBe((await readFile(artifact.path)).length);
    expect(artifact.sha256).toMatch(/^[0-9a-f]{64}$/);

    await execInService(host, stack, "app", ["sh", "-c", "echo mutated > /var/www/marker.txt"]);
    await restoreStack(host, plan, artifact);
    const after = await execInService(host, stack, "app", ["cat", "/var/www/marker.txt"]);
    expect(after.stdout).toBe("seeded-marker\n");
  });

  it("refuses to restore from a file that is not a backup artifact", async () => {
    const bogus = `${await tempDir("hw-bogus")}/bogus.tar`;
    await writeFile(bogus, Buffer.alloc(1024));
    await expect(restoreStack(host, plan, { path: bogus })).rejects.toThrow(/not a Taster backup artifact/);
  });

  it("upgrades in place to the PR head as a chaos deploy; an exec during the update returns the real result", async () => {
    const dir = await checkout(lab, "hello-web", "refs/pull/1/head");
    const head = await planRecipe(host, { dir, stack, domain: `${stack}.test` });
    const sha = await headSha(dir);
    await deployStack(host, head, { chaos: true, chaosVersion: sha }, { ledger });
    // Swarm is now replacing the 1.0 container with a 1.1 one (stop-first): the exec lands on
    // whichever container is really running, and must never come back empty.
    const states: (string | undefined)[] = [];
    const during = await Promise.all(
      [0, 400, 800, 1200].map(async (delay) => {
        await new Promise((resolve) => setTimeout(resolve, delay));
        states.push((await updateState(host, head)).app);
        return execInService(host, stack, "app", ["cat", "/etc/web-version"]);
      }),
    );
    expect(states).toContain("updating");
    for (const result of during) {
      expect(result.exitCode).toBe(0);
      expect(["1.0\n", "1.1\n"]).toContain(result.stdout);
    }
    await waitForConvergence(host, head, { timeoutSeconds: 90 });
    expect(ledger.count(stack)).toBe(2);
    const labels = await readAppLabels(host, head);
    expect(labels[`coop-cloud.${stack}.chaos-version`]).toBe(sha);
    expect(labels[`coop-cloud.${stack}.chaos`]).toBe("true");
    expect(labels[`coop-cloud.${stack}.version`]).toBe("1.1.0+1.1");
    // hello-web's update cannot roll back (swarm's default failure action): converged as soon as the
    // new task is healthy, possibly while swarm still watches its monitor window.
    expect(["updating", "completed"]).toContain((await updateState(host, head)).app);
    expect((await execInService(host, stack, "app", ["cat", "/etc/web-version"])).stdout).toBe("1.1\n");
    // The content volume survived the upgrade.
    expect((await execInService(host, stack, "app", ["cat", "/var/www/marker.txt"])).stdout).toBe(
      "seeded-marker\n",
    );
  });

  it("tears down to zero residue, and a second teardown is a no-op", async () => {
    expect(await findResidue(host, stack)).not.toEqual([]);
    expect(await teardownStack(host, stack)).toEqual({ residue: [] });
    expect(await findResidue(host, stack)).toEqual([]);
    expect(await teardownStack(host, stack)).toEqual({ residue: [] });
    await expect(execInService(host, stack, "app", ["true"], { retryForMs: 1000 })).rejects.toThrow(
      /does not exist/,
    );
  });
});
