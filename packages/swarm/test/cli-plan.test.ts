import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";

const run = promisify(execFile);
const TASTER = join(import.meta.dirname, "../../../taster");
let lab: LabInfo;

beforeAll(async () => {
  lab = await ensureLab();
});

const taster = (args: string[]) =>
  run(TASTER, args, { env: { ...process.env, DOCKER_HOST: lab.dockerHost } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

describe("./taster plan", () => {
  it("prints the plan of a git URL at a ref as JSON, with --stack, --domain and --env", async () => {
    const { code, stdout } = await taster([
      "plan",
      `file://${recipeRepo(lab, "notes")}`,
      "--ref",
      "0.1.0+2.0",
      "--stack",
      "clipl",
      "--domain",
      "notes.cli.test",
      "--env",
      "DEPLOY_TIMEOUT=9",
    ]);
    expect(code).toBe(0);
    const plan = JSON.parse(stdout);
    expect(plan).toMatchObject({
      ref: "0.1.0+2.0",
      stack: "clipl",
      domain: "notes.cli.test",
      timeoutSeconds: 9,
    });
    expect(plan.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(plan.secrets).toEqual([
      {
        name: "db_password",
        fullName: "clipl_db_password_v1",
        length: 32,
        external: true,
        hint: {
          length: 32,
          generate: true,
          charset: "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
        },
      },
    ]);
    expect(plan.services.map((service: { image: string }) => service.image)).toEqual([
      "taster-lab/web:1.0",
      "taster-lab/web:1.0",
    ]);
  }, 60_000);

  it("exits 1 with the reason when the recipe is broken, 2 on bad usage", async () => {
    const missingRef = await taster(["plan", recipeRepo(lab, "notes"), "--ref", "no-such-tag"]);
    expect(missingRef.code).toBe(2);
    expect(missingRef.stderr).toMatch(/ref no-such-tag not found in .*notes\.git/);
    const badEnv = await taster(["plan", recipeRepo(lab, "notes"), "--env", "NOEQUALS"]);
    expect(badEnv.code).toBe(2);
    const broken = await taster([
      "plan",
      recipeRepo(lab, "notes"),
      "--env",
      "COMPOSE_FILE=compose.yml:gone.yml",
    ]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('COMPOSE_FILE entry "gone.yml"');
  }, 60_000);
});
