import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";
import { BACKUP_ROWS_KEY, listRows } from "./ops";

test("every row the app held at the backup is back after the restore", async () => {
  const before = (await app.state.get<string[]>(BACKUP_ROWS_KEY)) ?? [];
  expect(before.length).toBeGreaterThan(0);
  const after = new Set((await listRows(app)).map((row) => row.body));
  const missing = before.filter((body) => !after.has(body));
  // The words a maintainer reads in the PR comment when the round trip loses data.
  const why =
    missing.length === 0
      ? "all rows are back"
      : `${missing.length} of ${before.length} rows written before the backup are missing after the restore: ` +
        "the backup holds the database dump, but nothing loaded it back into PostgreSQL " +
        "(does the db service still have its backupbot.restore.post-hook?)";
  expect(why).toBe("all rows are back");
});
