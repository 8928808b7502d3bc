import { test } from "@jest/globals";
import { app } from "@taster/testkit";
import { expectRestoreBroughtRowsBack } from "../_lib/rows-app";

test("every row the app held at the backup is back after the restore", () =>
  expectRestoreBroughtRowsBack(app, "PostgreSQL"));
