import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab } from "@taster/lab";

const ROOT = join(import.meta.dirname, "..", "..", "..");

// infra/deploy is Taster packaged as a Co-op Cloud recipe: it must render with the Docker CLI's
// own compose conversion, the way operators (and abra) will deploy it.
describe("infra/deploy (Taster as a recipe)", () => {
  let plan: {
    services: { name: string; image: string }[];
    secrets: { fullName: string }[];
    configs: { fullName: string }[];
    backupCapable: boolean;
  };

  beforeAll(async () => {
    await ensureLab();
    const { stdout } = await promisify(execFile)(
      join(ROOT, "taster"),
      ["plan", join(ROOT, "infra/deploy"), "--stack", "tasterprod", "--domain", "taster.example.com"],
      { maxBuffer: 8 * 1024 * 1024 },
    );
    plan = JSON.parse(stdout);
  });

  it("has the bridge (http and intake roles), a worker and Redis", () => {
    expect(plan.services.map((s) => s.name).sort()).toEqual(["app", "intake", "redis", "worker"]);
  });

  it("takes its credentials from versioned external secrets, never from the env file", () => {
    expect(plan.secrets.map((s) => s.fullName).sort()).toEqual([
      "tasterprod_github_token_v1",
      "tasterprod_redis_password_v1",
      "tasterprod_ssh_key_v1",
      "tasterprod_webhook_secret_v1",
    ]);
    // The allowlist too: versioned configs of the deployment, not files baked into the image.
    expect(plan.configs.map((c) => c.fullName).sort()).toEqual([
      "tasterprod_allowlist_v1",
      "tasterprod_known_hosts_v1",
      "tasterprod_redis_conf_v1",
      "tasterprod_triggerers_v1",
    ]);
  });

  it("backs up Redis (the queue and run history) with backup-bot labels", () => {
    expect(plan.backupCapable).toBe(true);
  });
});
