// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages name compose variables literally, as ${STACK_NAME}
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab } from "@taster/lab";
import { connectHost, type Host, type Plan, type PlannedService } from "@taster/swarm";
import { backupHookFindings } from "../src/lint/backup-hook";
import { composeSchemaFindings } from "../src/lint/compose-schema";
import { configVersionFindings } from "../src/lint/config-version";
import { healthcheckFindings } from "../src/lint/healthcheck";
import { lintResult } from "../src/lint/index";
import { versionLabelFindings } from "../src/lint/version-label";

const service = (name: string, extra: Partial<PlannedService> = {}): PlannedService => ({
  name,
  fullName: `st_${name}`,
  image: "x",
  labels: {},
  mounts: [],
  networks: [],
  ...extra,
});
const plan = (services: PlannedService[], extra: Partial<Plan> = {}): Plan =>
  ({
    stack: "st",
    dir: "/r",
    services,
    backupCapable: services.some((s) => s.labels["backupbot.backup"] === "true"),
    rendered: {},
    ...extra,
  }) as Plan;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "taster-lint-"));
});

describe("compose-schema: the raw files against the Docker CLI's schema, before interpolation", () => {
  let host: Host;
  beforeAll(async () => {
    host = await connectHost((await ensureLab()).dockerHost);
  }, 120_000);
  afterAll(async () => host?.close());

  const compose = (startPeriod: string) =>
    `version: "3.8"\nservices:\n  app:\n    image: busybox\n    healthcheck:\n      test: ["CMD", "true"]\n      start_period: ${startPeriod}\n`;

  test("a duration behind a variable is an error naming the key", async () => {
    await writeFile(join(dir, "compose.yml"), compose("${X:-5m}"));
    const [finding, ...more] = await composeSchemaFindings(host, dir, ["compose.yml"]);
    expect(more).toEqual([]);
    expect(finding?.severity).toBe("error");
    expect(finding?.message).toContain(
      "services.app.healthcheck.start_period Does not match format 'duration'",
    );
  });

  test("a literal duration passes", async () => {
    await writeFile(join(dir, "compose.yml"), compose("5m"));
    expect(await composeSchemaFindings(host, dir, ["compose.yml"])).toEqual([]);
  });
});

describe("version-label", () => {
  test("missing on every service: a warning", () => {
    const [finding] = versionLabelFindings(plan([service("app")]));
    expect(finding).toMatchObject({ check: "version-label", severity: "warning" });
    expect(finding?.message).toMatch(/coop-cloud\.\$\{STACK_NAME\}\.version/);
  });

  test("present: nothing", () => {
    const labels = { "coop-cloud.st.version": "1.0.0+1.0" };
    expect(versionLabelFindings(plan([service("app", { labels })]))).toEqual([]);
  });
});

describe("healthcheck on the serving service", () => {
  test("none, or disabled: a warning naming the service", () => {
    for (const healthcheck of [undefined, { disable: true }, { test: ["NONE"] }]) {
      const p = plan([service("web", healthcheck ? { healthcheck } : {}), service("db")]);
      expect(healthcheckFindings(p, "web").map((f) => [f.severity, f.message.split(":")[0]])).toEqual([
        ["warning", "the serving service web has no healthcheck"],
      ]);
    }
  });

  test("present: nothing; other services are not the serving one", () => {
    const p = plan([service("web", { healthcheck: { test: ["CMD", "true"] } }), service("db")]);
    expect(healthcheckFindings(p, "web")).toEqual([]);
  });
});

describe("config-version: a changed config file needs a new name", () => {
  async function plans(before: string, after: string, names: [string, string]) {
    for (const [sub, text] of [
      ["base", before],
      ["head", after],
    ] as const) {
      await mkdir(join(dir, sub), { recursive: true });
      await writeFile(join(dir, sub, "nginx.conf"), text);
    }
    const at = (sub: string, name: string) =>
      plan([], {
        dir: join(dir, sub),
        rendered: { configs: { nginx_conf: { name, file: join(dir, sub, "nginx.conf") } } },
      } as Partial<Plan>);
    return [at("head", names[1]), at("base", names[0])] as const;
  }

  test("changed under the same name: an error naming the file, the base and the variable", async () => {
    const [head, base] = await plans("a", "b", ["st_nginx_conf_v1", "st_nginx_conf_v1"]);
    const [finding] = await configVersionFindings(head, base, "1.0.0+1.0");
    expect(finding?.severity).toBe("error");
    expect(finding?.message).toBe(
      "config nginx_conf: nginx.conf changed since 1.0.0+1.0 but its name stays ${STACK_NAME}_nginx_conf_v1: bump NGINX_CONF_VERSION (or the variable its name uses) in abra.sh — swarm configs cannot change in place, so every upgrade from 1.0.0+1.0 would fail",
    );
  });

  test("changed with a bumped version, or unchanged: nothing", async () => {
    const [bumpedHead, bumpedBase] = await plans("a", "b", ["st_nginx_conf_v1", "st_nginx_conf_v2"]);
    expect(await configVersionFindings(bumpedHead, bumpedBase, "1.0.0+1.0")).toEqual([]);
    const [sameHead, sameBase] = await plans("a", "a", ["st_nginx_conf_v1", "st_nginx_conf_v1"]);
    expect(await configVersionFindings(sameHead, sameBase, "1.0.0+1.0")).toEqual([]);
  });
});

describe("backup-restore-hook: a dump with nothing to load it back", () => {
  const app = service("app", { labels: { "backupbot.backup": "true" } });
  const db = (labels: Record<string, string>) =>
    service("db", {
      labels,
      mounts: [{ type: "volume", source: "st_pgdata", target: "/var/lib/postgresql/data" }],
    });
  const dump = { "backupbot.backup.pre-hook": "sh -c 'pg_dump -U app > /var/lib/postgresql/data/dump.sql'" };

  test("a pre-hook into a backed-up volume and no restore post-hook: a warning naming the path", () => {
    const [finding] = backupHookFindings(plan([app, db(dump)]));
    expect(finding?.severity).toBe("warning");
    expect(finding?.message).toContain(
      "writes into /var/lib/postgresql/data/dump.sql (volume pgdata), which is backed up, but no service has backupbot.restore.post-hook",
    );
  });

  test("a restore post-hook on any service, or no backup label: nothing", () => {
    const restore = {
      ...dump,
      "backupbot.restore.post-hook": "sh -c 'psql < /var/lib/postgresql/data/dump.sql'",
    };
    expect(backupHookFindings(plan([app, db(restore)]))).toEqual([]);
    expect(backupHookFindings(plan([service("app"), db(dump)]))).toEqual([]);
  });
});

describe("the lint row", () => {
  test("an error fails it; warnings alone pass it, counted in its note", () => {
    const warning = {
      check: "healthcheck" as const,
      severity: "warning" as const,
      message: "m",
      source: "s",
    };
    const error = { ...warning, check: "compose-schema" as const, severity: "error" as const };
    expect(lintResult([warning, error], 5)).toMatchObject({
      status: "fail",
      reason: "1 error(s), 1 warning(s)",
    });
    expect(lintResult([warning], 5)).toMatchObject({ status: "pass", reason: "1 warning(s)" });
    expect(lintResult([], 5).reason).toBeUndefined();
  });
});
