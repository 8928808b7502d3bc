import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import { fetchRecipe, makeWorkspace, pullRef, resolveUpgradeBase, type Workspace } from "../src/index";

const root = join(tmpdir(), `taster-recipe-base-${process.pid}`);
const workspaces: Workspace[] = [];
let lab: LabInfo;

beforeAll(async () => {
  lab = await ensureLab();
});

afterAll(async () => {
  await Promise.all(workspaces.map((w) => w.cleanup()));
  await rm(root, { recursive: true, force: true });
});

async function checkout(recipe: string, ref: string) {
  const ws = await makeWorkspace(root, recipe);
  workspaces.push(ws);
  return fetchRecipe({ url: recipeRepo(lab, recipe), ref, workspace: ws.dir });
}

describe("upgrade base of the sample recipes", () => {
  it.each([
    ["hello-web", 1, "1.1.0+1.1"],
    ["notes", 2, "0.2.0+2.1"],
    ["broken", 3, "0.1.0+1.0"],
  ])("%s PR #%d upgrades from %s", async (recipe, pr, expected) => {
    const head = await checkout(recipe, pullRef(pr));
    const decision = await resolveUpgradeBase(head.dir, head.sha);
    expect(decision.base?.tag).toBe(expected);
    expect(decision.reason).toContain(expected);
  });

  it("has no base when the head is itself the only release, and says why", async () => {
    const head = await checkout("broken", "main");
    expect(await resolveUpgradeBase(head.dir, head.sha)).toEqual({
      base: null,
      reason: "the head is release 0.1.0+1.0 and no release is older",
    });
  });

  it("a release head of a recipe with older releases upgrades from the previous one", async () => {
    const head = await checkout("hello-web", "main");
    expect((await resolveUpgradeBase(head.dir, head.sha)).base?.tag).toBe("1.0.0+1.0");
  });

  it("the recipe's upgradeBase setting wins over the newest release", async () => {
    const head = await checkout("hello-web", pullRef(1));
    const decision = await resolveUpgradeBase(head.dir, head.sha, "1.0.0+1.0");
    expect(decision.base).toMatchObject({ tag: "1.0.0+1.0", recipe: "1.0.0", upstream: "1.0" });
    expect(decision.base?.sha).toMatch(/^[0-9a-f]{40}$/);
  });
});
