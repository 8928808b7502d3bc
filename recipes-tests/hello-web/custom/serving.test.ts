import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";

// hello-web's own promise: after all the lifecycle ops, the page it serves comes from the image
// version the head release pins (1.1), not a leftover of the base.
test("serves the page of the image version the head pins", async () => {
  const version = (await app.exec("app", ["cat", "/etc/web-version"])).stdout.trim();
  expect(version).toBe("1.1");
  const page = await app.http("/index.html");
  expect(page.status).toBe(200);
  expect(page.body).toContain("taster-lab web");
});

test("answers 404 for a page that does not exist", async () => {
  expect((await app.http("/no-such-page")).status).toBe(404);
});
