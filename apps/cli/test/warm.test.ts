import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo } from "@taster/lab";
import {
  connectHost,
  createWarmVolume,
  dropRecipe,
  type Host,
  type KnownGood,
  listKnownGoods,
  newWarmId,
  volumeFacts,
  writeKnownGood,
} from "@taster/swarm";

/**
 * `taster warm list|drop` and `taster janitor` beside a known-good, on the lab's engine. The
 * known-good here is made directly (one small volume and its record), as a sweep's keep would leave
 * it; packages/harness/test/warm.test.ts makes real ones from real runs.
 */
const run = promisify(execFile);
const TASTER = join(import.meta.dirname, "..", "..", "..", "taster");
let lab: LabInfo;
let host: Host;
const recipe = `warmcli${process.pid}`;
const stack = `twarmcli${process.pid}`;
let kg: KnownGood;

const env = () => ({ ...process.env, DOCKER_HOST: lab.dockerHost, TASTER_REDIS_URL: "" });
const taster = (...args: string[]) => run(TASTER, args, { env: env() });
/** Exit code, stdout and stderr of a command that may fail. */
const attempt = (...args: string[]) =>
  taster(...args).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );

beforeAll(async () => {
  lab = await ensureLab();
  host = await connectHost(lab.dockerHost);
  const id = newWarmId();
  const volume = await createWarmVolume(host, recipe, id, "db_data");
  const [facts] = await volumeFacts(host, [volume]);
  kg = {
    recipe,
    version: "1.0.0+1.0",
    sha: "a".repeat(40),
    stack,
    appEnv: { text: "DOMAIN=x\n", name: ".env" },
    secrets: { db_password_v1: "not-shown" },
    volumes: { db_data: volume },
    checksums: { db_data: facts?.digest ?? "" },
    sizes: { db_data: facts?.kib ?? 0 },
    keptAt: new Date().toISOString(),
    id,
  };
  await writeKnownGood(host, kg);
});

afterAll(async () => {
  await dropRecipe(host, recipe).catch(() => undefined);
  await host.close();
});

describe("taster warm", () => {
  it("lists each known-good: recipe, version, sha, volumes with size and digest, kept at — never a secret", async () => {
    const { stdout } = await taster("warm", "list");
    const line = stdout.split("\n").find((l) => l.startsWith(`${recipe} `));
    expect(line).toContain("1.0.0+1.0");
    expect(line).toContain("aaaaaaaaaaaa");
    expect(line).toContain(`db_data ${kg.sizes.db_data} KiB ${kg.checksums.db_data?.slice(0, 12)}`);
    expect(line).toContain(kg.keptAt);
    expect(stdout).not.toContain("not-shown");
  });

  it("the janitor with --remove takes a dead stack and leaves the known-good, and says so", async () => {
    await run("docker", ["volume", "create", "--label", `taster.stack=${stack}`, `${stack}_leftover`], {
      env: env(),
    });
    const { stdout } = await taster("janitor", "--prefix", stack, "--min-age", "0", "--remove");
    expect(stdout).toContain(`removed ${stack}`);
    expect(stdout).toMatch(/left alone: \d+ warm known-good\(s\) \(taster warm list\)/);
    expect((await listKnownGoods(host, recipe)).map((k) => k.id)).toEqual([kg.id]);
    expect(await volumeFacts(host, [kg.volumes.db_data as string])).toEqual([
      { digest: kg.checksums.db_data, kib: kg.sizes.db_data },
    ]);
  });

  it("drop of an unknown recipe exits 2 with a clear error and changes nothing", async () => {
    const before = await listKnownGoods(host);
    const result = await attempt("warm", "drop", `nope${process.pid}`);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no known-good for nope${process.pid} on this host (known-goods: `);
    expect(result.stderr).toContain(recipe);
    expect(await listKnownGoods(host)).toEqual(before);
  });

  it("drop removes the recipe's known-good: its record and its volumes", async () => {
    const { stdout } = await taster("warm", "drop", recipe);
    expect(stdout).toContain(`dropped ${recipe} 1.0.0+1.0 (${kg.id}, 1 volume(s))`);
    expect(await listKnownGoods(host, recipe)).toEqual([]);
    const { stdout: volumes } = await run("docker", ["volume", "ls", "-q"], { env: env() });
    expect(volumes.split("\n")).not.toContain(kg.volumes.db_data);
  });
});
