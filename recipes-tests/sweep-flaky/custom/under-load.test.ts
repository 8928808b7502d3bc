import { readFile } from "node:fs/promises";
import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";

// A timing-sensitive check, made deterministic for the sweep's triage tests: the lab marks "the
// host is under load" with this file (written by the test that drives the load, readable by the
// sandbox), and while it is there the page counts as too slow. Alone on the host, it passes.
const LOAD_MARKER = "/tmp/taster-sweep-flaky/load";

test("serves its page within its latency budget", async () => {
  const page = await app.http("/index.html");
  expect(page.status).toBe(200);
  const load = await readFile(LOAD_MARKER, "utf8").catch(() => null);
  expect(load === null ? "within budget" : `over budget: host under load (${load.trim()})`).toBe(
    "within budget",
  );
});
