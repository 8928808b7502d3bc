import { describe, expect, it } from "@jest/globals";
import { displayUrl, recipeNameFrom } from "../src/index";

describe("recipeNameFrom", () => {
  it.each([
    ["hello-web.git", "hello-web"],
    ["/srv/lab/recipes/notes.git", "notes"],
    ["/srv/lab/recipes/notes.git/", "notes"],
    ["./checkouts/broken", "broken"],
    ["/home/me/broken/.git", "broken"],
    ["https://git.coopcloud.tech/coop-cloud/hello-web.git", "hello-web"],
    ["git@github.com:coop-cloud/notes.git", "notes"],
    ["ssh://git@host:2222/org/matrix-synapse", "matrix-synapse"],
  ])("%s → %s", (url, name) => {
    expect(recipeNameFrom(url)).toBe(name);
  });

  it("refuses input with no usable name", () => {
    expect(() => recipeNameFrom("/")).toThrow(/cannot tell the recipe name/);
    expect(() => recipeNameFrom(".git")).toThrow(/cannot tell the recipe name/);
  });
});

describe("displayUrl", () => {
  it("drops credentials from URLs and leaves everything else alone", () => {
    expect(displayUrl("https://x-access-token:ghs_secret@github.com/o/r.git")).toBe(
      "https://github.com/o/r.git",
    );
    expect(displayUrl("git@github.com:o/r.git")).toBe("git@github.com:o/r.git");
    expect(displayUrl("/srv/r.git")).toBe("/srv/r.git");
  });
});
