import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab } from "../../lab/src/index";

const run = promisify(execFile);
const DEPLOY = join(import.meta.dirname, "..");
// infra/deploy is no workspace package: borrow the yaml parser the harness depends on.
const harnessRequire = createRequire(join(DEPLOY, "..", "..", "packages", "harness", "package.json"));
const { parse } = harnessRequire("yaml") as { parse(text: string): unknown };

interface Mount {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}
interface Service {
  command?: string[];
  environment?: Record<string, string | null>;
  networks?: Record<string, unknown>;
  secrets?: Mount[];
  configs?: Mount[];
  cap_add?: string[];
}
interface Rendered {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean; external?: boolean; attachable?: boolean } | null>;
  configs: Record<string, { file?: string; template_driver?: string }>;
}

/**
 * `.env.sample` as an operator's app env starts: KEY=value lines, quotes and trailing comments
 * dropped, `$NAME` of earlier keys expanded (the `COMPOSE_FILE="$COMPOSE_FILE:…"` lines).
 */
function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=("[^"]*"|[^#]*?)\s*(#.*)?$/.exec(line.trim());
    if (!m?.[1]) continue;
    const value = (m[2] ?? "").replace(/^"(.*)"$/, "$1");
    env[m[1]] = value.replace(/\$\{?([A-Z0-9_]+)\}?/g, (_, name: string) => env[name] ?? "");
  }
  return env;
}

const sampleText = () => readFile(join(DEPLOY, ".env.sample"), "utf8");

/** The sample as a Gitea-only collection writes it: the GitHub block dropped, the Gitea one uncommented. */
function giteaOnly(text: string): string {
  return text
    .replace(/^## GitHub[^\n]*\n(?:[^\n]+\n)*\n/m, "")
    .replace(/^#((?:COMPOSE_FILE="\$COMPOSE_FILE:compose\.gitea|GITEA_URL|SECRET_GITEA_\w+)=?)/gm, "$1");
}

/** The sample as a GitHub App deployment writes it: the token block dropped, the App one uncommented. */
function githubAppOnly(text: string): string {
  return text
    .replace(/^## GitHub \(secrets[^\n]*\n(?:[^\n]+\n)*\n/m, "")
    .replace(
      /^#((?:COMPOSE_FILE="\$COMPOSE_FILE:compose\.github-app|GITHUB_\w+|SECRET_GITHUB_APP_\w+|SECRET_WEBHOOK_\w+)=?)/gm,
      "$1",
    );
}

/** Taster's own deployment as the Docker CLI renders it for `docker stack deploy` (the lab's engine). */
async function render(env: Record<string, string>): Promise<{ rendered: Rendered; stderr: string }> {
  const lab = await ensureLab();
  const files = (env.COMPOSE_FILE ?? "compose.yml").split(":").flatMap((file) => ["-c", join(DEPLOY, file)]);
  const { stdout, stderr } = await run("docker", ["stack", "config", ...files], {
    cwd: DEPLOY,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      DOCKER_HOST: lab.dockerHost,
      STACK_NAME: "taster",
      ...env,
    },
  });
  return { rendered: parse(stdout) as Rendered, stderr };
}

// The sample as it comes (GitHub).
let rendered: Rendered;
let env: Record<string, string>;
const TASTER_SERVICES = ["app", "intake", "worker"];

beforeAll(async () => {
  env = parseEnv(await sampleText());
  ({ rendered } = await render(env));
}, 600_000);

describe("infra/deploy: what a test's sandbox could otherwise reach", () => {
  test("every secret (and the Redis config that holds one) is 0400 for the one user that reads it", () => {
    const mounts: [string, string, Mount][] = [];
    for (const [name, service] of Object.entries(rendered.services)) {
      for (const secret of service.secrets ?? []) mounts.push([name, "secret", secret]);
      for (const config of service.configs ?? [])
        if (config.source === "redis_conf") mounts.push([name, "config", config]);
    }
    for (const [service, kind, mount] of mounts) {
      const owner = service === "redis" ? "999" : "0";
      expect({
        service,
        kind,
        source: mount.source,
        mode: mount.mode,
        uid: mount.uid,
        gid: mount.gid,
      }).toEqual({
        service,
        kind,
        source: mount.source,
        mode: 0o400,
        uid: owner,
        gid: owner,
      });
    }
    expect(mounts.length).toBe(9);
  });

  test("Redis wants a password, from a secret, that no spec, argv or env shows", async () => {
    const redis = rendered.services.redis as Service;
    const conf = (redis.configs ?? []).find((c) => c.source === "redis_conf");
    expect(redis.command).toEqual(["redis-server", conf?.target]);
    expect(rendered.configs.redis_conf?.template_driver).toBe("golang");
    const template = await readFile(join(DEPLOY, "redis.conf.tmpl"), "utf8");
    expect(template).toMatch(/^requirepass \{\{ secret "redis_password" \}\}$/m);
    expect((redis.secrets ?? []).map((s) => s.source)).toContain("redis_password");
    expect(env.SECRET_REDIS_PASSWORD_VERSION).toMatch(/^v\d+$/);
    for (const name of TASTER_SERVICES) {
      const service = rendered.services[name] as Service;
      expect([name, service.environment?.TASTER_REDIS_URL]).toEqual([name, "redis://redis:6379"]);
      expect([name, service.environment?.TASTER_REDIS_PASSWORD_FILE]).toEqual([
        name,
        "/run/secrets/redis_password",
      ]);
      expect((service.secrets ?? []).map((s) => s.source)).toContain("redis_password");
    }
  });

  test("the image's entrypoint puts the password into the Redis URL, percent-encoded, and drops it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "taster-entrypoint-"));
    try {
      const script = (await readFile(join(DEPLOY, "entrypoint.sh"), "utf8")).replace(
        'exec /opt/taster/taster "$@"',
        `printf "%s|%s" "$TASTER_REDIS_URL" "\${TASTER_REDIS_PASSWORD:-unset}"`,
      );
      await writeFile(join(dir, "entrypoint.sh"), script);
      await writeFile(join(dir, "pass"), "p@ss/w:rd");
      await chmod(join(dir, "pass"), 0o400);
      const { stdout } = await run("sh", [join(dir, "entrypoint.sh")], {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          TASTER_REDIS_URL: "redis://redis:6379",
          TASTER_REDIS_PASSWORD_FILE: join(dir, "pass"),
        },
      });
      expect(stdout).toBe("redis://:p%40ss%2Fw%3Ard@redis:6379|unset");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a missing secret file names the secret, the variable, the path and the fix", async () => {
    const dir = await mkdtemp(join(tmpdir(), "taster-entrypoint-"));
    try {
      const missing = join(dir, "github_token");
      const failure = await run("bash", [join(DEPLOY, "entrypoint.sh"), "bridge"], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TASTER_GITHUB_TOKEN_FILE: missing },
      }).then(
        () => ({ code: 0, stderr: "" }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure.code).toBe(2);
      expect(failure.stderr).toContain(
        `taster: secret 'github_token' for TASTER_GITHUB_TOKEN is missing: TASTER_GITHUB_TOKEN_FILE=${missing} does not exist`,
      );
      expect(failure.stderr).toContain(
        "fix: create the swarm secret (`abra app secret insert <app> github_token v1 <value>`",
      );
      expect(failure.stderr).not.toMatch(/parameter not set/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("Redis is on an internal network of its own that only Taster's services join", () => {
    const redis = rendered.services.redis as Service;
    expect(Object.keys(redis.networks ?? {})).toEqual(["redis"]);
    const network = rendered.networks.redis ?? {};
    expect({
      internal: network.internal,
      external: network.external,
      attachable: network.attachable,
    }).toEqual({
      internal: true,
      external: undefined,
      attachable: undefined,
    });
    const members = Object.entries(rendered.services)
      .filter(([, service]) => Object.hasOwn(service.networks ?? {}, "redis"))
      .map(([name]) => name)
      .sort();
    expect(members).toEqual(["app", "intake", "redis", "worker"]);
  });

  test("the worker can make the test sandbox and has a slot per run it takes", () => {
    const worker = rendered.services.worker as Service;
    expect(worker.cap_add).toContain("SYS_ADMIN");
    expect(worker.environment?.TASTER_SANDBOX_SLOTS).toBe(env.WORKER_CAPACITY);
  });
});

describe("infra/deploy: the allowlist is the deployment's, not the image's", () => {
  test("the worker reads the repo-local allowlist, intake the triggerers, from versioned configs", () => {
    const target = (service: string, source: string) =>
      (rendered.services[service]?.configs ?? []).find((c) => c.source === source)?.target;
    expect(target("worker", "allowlist")).toBe("/opt/taster/allowlist/repo-local.yml");
    expect(target("intake", "triggerers")).toBe("/opt/taster/allowlist/triggerers.yml");
    const configs = rendered.configs as Record<string, { name?: string; external?: boolean }>;
    expect(configs.allowlist).toEqual({ name: `taster_allowlist_${env.ALLOWLIST_VERSION}`, external: true });
    expect(configs.triggerers).toEqual({
      name: `taster_triggerers_${env.TRIGGERERS_VERSION}`,
      external: true,
    });
  });
});

describe("infra/deploy for a Gitea collection", () => {
  let gitea: { rendered: Rendered; stderr: string };
  let giteaEnv: Record<string, string>;
  beforeAll(async () => {
    giteaEnv = parseEnv(giteaOnly(await sampleText()));
    gitea = await render(giteaEnv);
  }, 600_000);

  test("the sample's Gitea block renders without any GitHub variable", () => {
    expect(giteaEnv.COMPOSE_FILE).toBe("compose.yml:compose.gitea.yml");
    expect(Object.keys(giteaEnv).filter((key) => key.includes("GITHUB"))).toEqual([]);
    // The Docker CLI warns about every variable compose uses that the env does not set.
    expect(gitea.stderr).not.toMatch(/variable is not set/);
    expect(JSON.stringify(gitea.rendered)).not.toMatch(/GITHUB|github_token|"webhook_secret"/);
  });

  test("each service gets the Gitea URL, token or webhook secret it needs, as files", () => {
    const environment = (name: string) => gitea.rendered.services[name]?.environment ?? {};
    expect(environment("app").TASTER_GITEA_WEBHOOK_SECRET_FILE).toBe("/run/secrets/gitea_webhook_secret");
    for (const name of ["intake", "worker"]) {
      expect([name, environment(name).TASTER_GITEA_URL]).toEqual([name, giteaEnv.GITEA_URL]);
      expect([name, environment(name).TASTER_GITEA_TOKEN_FILE]).toEqual([name, "/run/secrets/gitea_token"]);
    }
    // No override: the worker fetches each run's recipe from its own forge ($TASTER_GITEA_URL here).
    expect(environment("worker").TASTER_RECIPE_SOURCE).toBeUndefined();
  });

  test("the Gitea secrets are mounted 0400 for root only", () => {
    const mounts = Object.entries(gitea.rendered.services).flatMap(([service, s]) =>
      (s.secrets ?? []).filter((m) => m.source.startsWith("gitea_")).map((m) => ({ service, ...m })),
    );
    expect(mounts.map((m) => `${m.service}:${m.source}`).sort()).toEqual([
      "app:gitea_webhook_secret",
      "intake:gitea_token",
      "worker:gitea_token",
    ]);
    for (const m of mounts)
      expect({ ...m, mode: m.mode, uid: m.uid, gid: m.gid }).toMatchObject({
        mode: 0o400,
        uid: "0",
        gid: "0",
      });
  });

  test("the worker takes its host from TEST_HOSTS by name, with its probe images", () => {
    const worker = gitea.rendered.services.worker as Service;
    expect(worker.command).toEqual([
      "worker",
      "--host",
      giteaEnv.WORKER_HOST_NAME,
      "--capacity",
      giteaEnv.WORKER_CAPACITY,
    ]);
    expect(worker.environment?.TASTER_HOSTS).toBe(giteaEnv.TEST_HOSTS);
    expect(worker.environment?.TASTER_PROBE_IMAGES).toBe("");
  });
});

describe("infra/deploy: GitHub as an App", () => {
  let app: { rendered: Rendered; stderr: string };
  let appEnv: Record<string, string>;
  beforeAll(async () => {
    appEnv = parseEnv(githubAppOnly(await sampleText()));
    app = await render(appEnv);
  }, 600_000);

  test("the sample's App block renders with the App's id and key, and no token", () => {
    expect(appEnv.COMPOSE_FILE).toBe("compose.yml:compose.github-app.yml");
    expect(app.stderr).not.toMatch(/variable is not set/);
    expect(JSON.stringify(app.rendered)).not.toMatch(/github_token|TASTER_GITHUB_TOKEN/);
    for (const name of ["intake", "worker"]) {
      const environment = app.rendered.services[name]?.environment ?? {};
      expect([name, environment.TASTER_GITHUB_APP_ID]).toEqual([name, appEnv.GITHUB_APP_ID]);
      expect([name, environment.TASTER_GITHUB_APP_PRIVATE_KEY_FILE]).toEqual([
        name,
        "/run/secrets/github_app_key",
      ]);
    }
  });

  test("the App's key is mounted 0400 for root, only where forge calls are made", () => {
    const mounts = Object.entries(app.rendered.services).flatMap(([service, s]) =>
      (s.secrets ?? []).filter((m) => m.source === "github_app_key").map((m) => ({ service, ...m })),
    );
    expect(mounts.map((m) => m.service).sort()).toEqual(["intake", "worker"]);
    for (const m of mounts) expect(m).toMatchObject({ mode: 0o400, uid: "0", gid: "0" });
  });
});
