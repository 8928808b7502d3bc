import { describe, expect, it } from "@jest/globals";
import { parseStages } from "../src/tiers";

describe("parseStages", () => {
  it("defaults to every tier in lifecycle order", () => {
    expect(parseStages(undefined)).toEqual(["install", "upgrade", "backup", "restore", "custom"]);
  });
  it("always includes install and keeps lifecycle order", () => {
    expect(parseStages("restore, upgrade")).toEqual(["install", "upgrade", "restore"]);
  });
  it("names unknown stages", () => {
    expect(() => parseStages("upgrade,deploy")).toThrow(/unknown stage\(s\): deploy/);
  });
});
