import { describe, expect, test } from "@jest/globals";
import { app } from "@taster/testkit";
import {
  expectAllServicesRunning,
  expectHealthchecksHealthy,
  expectNoRollback,
  expectServing,
} from "./checks";

const label = (name: string) => `coop-cloud.${app.context.stack}.${name}`;

describe("upgrade", () => {
  test("the PR head is what runs: chaos-version equals the head", async () => {
    const labels = await app.labels();
    expect({ chaos: labels[label("chaos")], chaosVersion: labels[label("chaos-version")] }).toEqual({
      chaos: "true",
      chaosVersion: app.context.chaosVersion,
    });
  });

  test("the version label that runs is the one the head's compose files declare", async () => {
    // abra never writes this label: it is the recipe's own, so what runs must be the head's.
    const version = (await app.labels())[label("version")];
    expect(version).toBe(app.context.versionLabel ?? undefined);
  });

  test("the update did not roll back", expectNoRollback);
  test("every service runs again after the upgrade", expectAllServicesRunning);
  test("every healthcheck reports healthy", expectHealthchecksHealthy);
  test("the app still answers HTTP", expectServing);
});
