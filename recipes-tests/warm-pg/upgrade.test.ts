import { test } from "@jest/globals";
import { app } from "@taster/testkit";
import { expectUpgradeKeptRows } from "../_lib/rows-app";

test("a row written under the base release is still there after the upgrade", () =>
  expectUpgradeKeptRows(app));
