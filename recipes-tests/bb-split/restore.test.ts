import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";
import { DATA_DB, ROW_KEY } from "./ops";

test("the row wiped after the backup is back in data.db (db's restore post-hook loaded the dump)", async () => {
  const row = await app.state.get<string>(ROW_KEY);
  expect(row).toMatch(/^taster row /);
  const db = await app.exec("db", ["cat", DATA_DB]);
  expect(db.stdout.split("\n")).toContain(row);
});
