import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { REDACTED, Redactor } from "@taster/core";
import { type RunEvent, RunLog } from "../src/runlog";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "taster-runlog-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("a secret printed by anything in the run never reaches the log file or the live events, and is flagged", async () => {
  const redactor = new Redactor();
  const secret = "s3cr3t-db-password-value";
  redactor.add(secret);
  const events: RunEvent[] = [];
  const log = new RunLog(redactor, (e) => events.push(e));
  log.toFile(join(dir, "run.log"));
  log.event("op", "deploy and converge", "install");
  expect(redactor.foundLeak).toBe(false);
  log.detail(`a test printed DB_PASSWORD=${secret}`, "install");
  log.event("test", `✗ leaks ${secret}`, "install");
  await log.close();
  const file = await readFile(join(dir, "run.log"), "utf8");
  expect(file).not.toContain(secret);
  expect(file).toContain(`DB_PASSWORD=${REDACTED}`);
  expect(events.map((e) => e.message)).toEqual(["deploy and converge", `✗ leaks ${REDACTED}`]);
  expect(redactor.foundLeak).toBe(true);
});
