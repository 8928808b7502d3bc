import { describe, expect, test } from "@jest/globals";
import { app } from "@taster/testkit";

describe("backup", () => {
  test("an artifact exists, is not empty and has a recorded checksum", async () => {
    const artifact = await app.backupArtifact();
    expect(artifact).not.toBeNull();
    expect(artifact?.size).toBeGreaterThan(0);
    expect(artifact?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test("every backed-up volume contributed paths", async () => {
    const artifact = await app.backupArtifact();
    const empty = (artifact?.entries ?? []).filter((e) => e.paths.length === 0).map((e) => e.service);
    expect(artifact?.entries.length).toBeGreaterThan(0);
    expect(empty).toEqual([]);
  });
});
