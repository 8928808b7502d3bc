import { describe, expect, it } from "@jest/globals";
import { childEnv, isSteeringKey, TRUSTED_PATH, trustedBinary } from "../src/child-env";

describe("child processes get a closed environment", () => {
  it("has a fixed PATH, the given variables and only the named operator variables, never Taster's own", () => {
    process.env.TASTER_GITHUB_TOKEN_FOR_TEST = "ghp_never_in_a_child";
    process.env.HTTPS_PROXY_FOR_TEST = "http://proxy.test";
    try {
      const env = childEnv({ A: "1", B: undefined }, ["HTTPS_PROXY_FOR_TEST", "NOT_SET_ANYWHERE"]);
      expect(env).toEqual({ PATH: TRUSTED_PATH, A: "1", HTTPS_PROXY_FOR_TEST: "http://proxy.test" });
    } finally {
      delete process.env.TASTER_GITHUB_TOKEN_FOR_TEST;
      delete process.env.HTTPS_PROXY_FOR_TEST;
    }
  });

  it("finds programs in the system's directories only, whatever PATH says", () => {
    const saved = process.env.PATH;
    process.env.PATH = "/tmp/evil/bin";
    try {
      expect(trustedBinary("git")).toMatch(/^\/(usr\/(local\/)?)?s?bin\/git$/);
      expect(() => trustedBinary("no-such-program-taster")).toThrow(/not installed in \/usr\/local\/sbin/);
      expect(() => trustedBinary("../bin/sh")).toThrow(/not a program name/);
    } finally {
      process.env.PATH = saved;
    }
  });

  it("knows the names that steer a process, and leaves recipe data alone", () => {
    for (const key of [
      "PATH",
      "LD_PRELOAD",
      "NODE_OPTIONS",
      "DOCKER_HOST",
      "GIT_DIR",
      "TASTER_X",
      "http_proxy",
    ])
      expect(isSteeringKey(key)).toBe(true);
    for (const key of ["COMPOSE_FILE", "DOMAIN", "TIMEOUT", "SECRET_DB_VERSION", "APP_CONF_VERSION", "TZ"])
      expect(isSteeringKey(key)).toBe(false);
  });
});
