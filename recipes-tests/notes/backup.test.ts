import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";

test("the backup holds the db dump directory", async () => {
  const artifact = await app.backupArtifact();
  const db = artifact?.entries.find((e) => e.service === "db");
  expect(db?.paths).toEqual(["db_data/dump"]);
});
