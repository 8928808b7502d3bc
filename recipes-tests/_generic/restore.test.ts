import { describe, expect, test } from "@jest/globals";
import { app } from "@taster/testkit";
import {
  type BackupMarker,
  expectAllServicesRunning,
  expectHealthchecksHealthy,
  expectServing,
  MARKER_KEY,
  RESTORE_CHECK_KEY,
  type RestoreCheck,
} from "./checks";

describe("restore", () => {
  test("every service runs after the restore", expectAllServicesRunning);
  test("every healthcheck reports healthy", expectHealthchecksHealthy);
  test("the app still answers HTTP", expectServing);

  test("the restore put every backed-up file back, identical to the backup", async () => {
    const check = await app.state.get<RestoreCheck>(RESTORE_CHECK_KEY);
    expect(check?.paths.length).toBeGreaterThan(0);
    expect(check?.files).toBeGreaterThan(0);
  });

  test("every backed-up path was changed after the backup and has its backed-up checksum back", async () => {
    const check = await app.state.get<RestoreCheck>(RESTORE_CHECK_KEY);
    const rows = (check?.checksums ?? []).map((c) => ({
      path: c.path,
      changed: c.files === 0 || c.changed !== c.backedUp,
      back: c.restored === c.backedUp,
    }));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows).toEqual(rows.map((r) => ({ path: r.path, changed: true, back: true })));
  });

  test("the marker seeded before backup and changed after it is back", async () => {
    const marker = await app.state.get<BackupMarker>(MARKER_KEY);
    // Only a backed-up directory gets a marker (the run log says which): a selection of files
    // only (a database dump) is proven by the file-by-file comparison above.
    if (!marker) return;
    const read = await app.exec(marker.service, ["cat", marker.path]);
    expect({ path: marker.path, content: read.stdout }).toEqual({ path: marker.path, content: marker.value });
  });
});
