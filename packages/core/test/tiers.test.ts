import { describe, expect, it } from "@jest/globals";
import { parseStages } from "../src/tiers";

describe("parseStages", () => {
  it("defaults to every tier in lifecycle order", () => {
    expect(parseStages(undefined)).toEqual(["install", "upgrade", "backup", "restore", "custom"]);
  });
  it("always includes install and keeps lifecycle order", () => {
    expect(parseStages("restore, upgrade")).toEqual(["install", "upgrade", "restore"]);
  });
  it("fresh is opt-in and only adds: alone it means every tier plus fresh", () => {
    expect(parseStages(undefined)).not.toContain("fresh");
    expect(parseStages("fresh")).toEqual(["install", "upgrade", "backup", "restore", "custom", "fresh"]);
    expect(parseStages("fresh,upgrade")).toEqual(["install", "upgrade", "fresh"]);
  });
  it("names unknown stages", () => {
    expect(() => parseStages("upgrade,deploy")).toThrow(/unknown stage\(s\): deploy/);
  });
});
