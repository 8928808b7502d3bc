import { describe, expect, test } from "@jest/globals";
import { app } from "@taster/testkit";
import {
  type BackupMarker,
  expectAllServicesRunning,
  expectHealthchecksHealthy,
  expectServing,
  MARKER_KEY,
} from "./checks";

describe("restore", () => {
  test("every service runs after the restore", expectAllServicesRunning);
  test("every healthcheck reports healthy", expectHealthchecksHealthy);
  test("the app still answers HTTP", expectServing);

  test("the marker seeded before backup and changed after it is back", async () => {
    const marker = await app.state.get<BackupMarker>(MARKER_KEY);
    expect(marker).toBeDefined();
    if (!marker) return;
    const read = await app.exec(marker.service, ["cat", marker.path]);
    expect({ path: marker.path, content: read.stdout }).toEqual({ path: marker.path, content: marker.value });
  });
});
