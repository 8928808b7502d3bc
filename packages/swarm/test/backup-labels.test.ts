import { describe, expect, it } from "@jest/globals";
import { TasterError } from "@taster/core";
import { backupSelection, type Plan, type PlannedService } from "../src/index";

const stack = "bb_test";

function service(
  name: string,
  labels: Record<string, string>,
  volumes: Record<string, string> = {},
): PlannedService {
  return {
    name,
    fullName: `${stack}_${name}`,
    image: "taster-lab/web:1.0",
    labels,
    mounts: Object.entries(volumes).map(([volume, target]) => ({
      type: "volume",
      source: `${stack}_${volume}`,
      target,
    })),
    networks: [],
  };
}

const planOf = (...services: PlannedService[]) => ({ stack, services }) as unknown as Plan;

function recipeErrorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TasterError);
    expect((error as TasterError).kind).toBe("recipe");
    return `${(error as TasterError).message} | ${(error as TasterError).hint ?? ""}`;
  }
  throw new Error("expected a recipe error");
}

describe("backupSelection: backup-bot-two's labels by its specification", () => {
  it("no backupbot.backup=true anywhere: nothing to back up", () => {
    expect(
      backupSelection(planOf(service("app", { "backupbot.backup": "false" }, { data: "/data" }))),
    ).toBeNull();
  });

  it("the label on a volume-less service backs up every volume of the stack, each through a service that mounts it", () => {
    const plan = planOf(
      service("app", { "backupbot.backup": "true" }),
      service("db", {}, { db_data: "/var/lib/db" }),
      service("worker", {}, { uploads: "/srv/uploads", db_data: "/mnt/db" }),
    );
    expect(backupSelection(plan)?.volumes).toEqual([
      { volume: "db_data", service: "db", target: "/var/lib/db", paths: ["."] },
      { volume: "uploads", service: "worker", target: "/srv/uploads", paths: ["."] },
    ]);
  });

  it("backupbot.backup.volumes.<vol>=false excludes that volume, set on any service", () => {
    const plan = planOf(
      service("app", { "backupbot.backup": "true" }),
      service(
        "db",
        { "backupbot.backup.volumes.cache": "false" },
        { db_data: "/var/lib/db", cache: "/cache" },
      ),
    );
    expect(backupSelection(plan)?.volumes.map((v) => v.volume)).toEqual(["db_data"]);
  });

  it("backupbot.backup.volumes.<vol>.path limits the volume to comma-separated paths relative to its root", () => {
    const plan = planOf(
      service("app", {
        "backupbot.backup": "true",
        "backupbot.backup.volumes.db_data.path": "dump, /config/app.ini,dump/",
      }),
      service("db", {}, { db_data: "/var/lib/db" }),
    );
    expect(backupSelection(plan)?.volumes).toEqual([
      { volume: "db_data", service: "db", target: "/var/lib/db", paths: ["dump", "config/app.ini"] },
    ]);
  });

  it("a path that leaves the volume is a recipe error naming the label", () => {
    const plan = planOf(
      service("app", {
        "backupbot.backup": "true",
        "backupbot.backup.volumes.db_data.path": "dump/../../etc",
      }),
      service("db", {}, { db_data: "/var/lib/db" }),
    );
    expect(recipeErrorOf(() => backupSelection(plan))).toContain(
      "backupbot.backup.volumes.db_data.path=dump/../../etc leaves the volume",
    );
  });

  it("hooks come from every service and run in their own service", () => {
    const plan = planOf(
      service("app", { "backupbot.backup": "true", "backupbot.backup.post-hook": "echo app-done" }),
      service(
        "db",
        {
          "backupbot.backup.pre-hook": "dump",
          "backupbot.restore.pre-hook": "stop-writes",
          "backupbot.restore.post-hook": "load",
        },
        { db_data: "/var/lib/db" },
      ),
    );
    expect(backupSelection(plan)?.hooks).toEqual({
      preHook: [{ service: "db", label: "backupbot.backup.pre-hook", command: "dump" }],
      postHook: [{ service: "app", label: "backupbot.backup.post-hook", command: "echo app-done" }],
      restorePreHook: [{ service: "db", label: "backupbot.restore.pre-hook", command: "stop-writes" }],
      restorePostHook: [{ service: "db", label: "backupbot.restore.post-hook", command: "load" }],
    });
  });

  it("bind mounts and anonymous volumes are not named volumes: not backed up", () => {
    const app = service("app", { "backupbot.backup": "true" });
    app.mounts = [
      { type: "bind", source: "/etc/hosts", target: "/etc/hosts" },
      { type: "volume", source: "", target: "/tmp/anon" },
    ];
    expect(backupSelection(planOf(app))?.volumes).toEqual([]);
  });

  it("backupbot.backup=true on two services is a recipe error naming both", () => {
    const plan = planOf(
      service("app", { "backupbot.backup": "true" }),
      service("db", { "backupbot.backup": "true" }, { db_data: "/var/lib/db" }),
    );
    const message = recipeErrorOf(() => backupSelection(plan));
    expect(message).toContain("backupbot.backup=true is set on 2 services (app, db)");
    expect(message).toContain("remove it from db");
  });
});
