import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";

// Every green run of warm-pg leaves a row naming its release: a known-good kept from it carries the
// row on, so each advance upgrades data written by every release before it (Taster's warm tests
// look for these rows in the known-good's volume).
test("a row written now is listed with the rows already there", async () => {
  const body = `aged-row written under ${app.context.headVersion}`;
  const post = await app.exec("app", [
    "curl",
    "-sS",
    "--fail-with-body",
    "-X",
    "POST",
    "--data-binary",
    body,
    "http://127.0.0.1:8000/rows",
  ]);
  expect(post.exitCode).toBe(0);
  const list = await app.exec("app", ["curl", "-sS", "--fail-with-body", "http://127.0.0.1:8000/rows"]);
  expect(list.exitCode).toBe(0);
  const bodies = (JSON.parse(list.stdout) as { body: string }[]).map((row) => row.body);
  expect(bodies).toContain(body);
});
