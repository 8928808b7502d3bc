import { describe, test } from "@jest/globals";
import { expectAllServicesRunning, expectHealthchecksHealthy, expectServing } from "./checks";

describe("install", () => {
  test("every service converged: all desired tasks running", expectAllServicesRunning);
  test("every healthcheck reports healthy", expectHealthchecksHealthy);
  test("the app answers HTTP from inside the stack network with an acceptable status", expectServing);
});
