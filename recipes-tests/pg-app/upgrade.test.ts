import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";
import { listRows, UPGRADE_ROW_KEY } from "./ops";

test("a row written under the base release is still there after the upgrade", async () => {
  const written = await app.state.get<string>(UPGRADE_ROW_KEY);
  expect(written).toMatch(/before the upgrade/);
  const bodies = (await listRows(app)).map((row) => row.body);
  expect(bodies).toContain(written);
});
