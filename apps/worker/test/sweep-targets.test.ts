import { describe, expect, it } from "@jest/globals";
import { recipeSources, sweepTargets } from "../src/index";

describe("sweep targets", () => {
  it("fetches each enrolled recipe from its own forge, and leaves out one on a forge not configured", () => {
    const said: string[] = [];
    const targets = sweepTargets(
      [
        { forge: "github", repo: "coop-cloud/hello-web" },
        { forge: "gitea", repo: "coop-cloud/notes" },
      ],
      recipeSources({ githubApiUrl: "https://api.github.com" }),
      (line) => said.push(line),
    );
    expect(targets).toEqual([
      {
        recipe: "hello-web",
        repo: "coop-cloud/hello-web",
        source: "https://github.com/coop-cloud/hello-web.git",
      },
    ]);
    expect(said).toEqual([
      expect.stringContaining("sweep: gitea:coop-cloud/notes left out: the run came from gitea"),
    ]);
  });

  it("takes TASTER_RECIPE_SOURCE's template for every forge", () => {
    const targets = sweepTargets(
      [{ forge: "gitea", repo: "coop-cloud/notes" }],
      recipeSources({ template: "/srv/recipes/{recipe}.git" }),
      () => {},
    );
    expect(targets.map((t) => t.source)).toEqual(["/srv/recipes/notes.git"]);
  });
});
