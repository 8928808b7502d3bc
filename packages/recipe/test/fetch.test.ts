import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, relative as relativePath } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { TasterError } from "@taster/core";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import {
  chaosVersion,
  describeHead,
  fetchRecipe,
  isDirty,
  listTags,
  makeWorkspace,
  pullRef,
  resolveRef,
  versionOf,
  type Workspace,
} from "../src/index";

const root = join(tmpdir(), `taster-recipe-test-${process.pid}`);
const workspaces: Workspace[] = [];
let lab: LabInfo;

beforeAll(async () => {
  lab = await ensureLab();
});

afterAll(async () => {
  await Promise.all(workspaces.map((w) => w.cleanup()));
  await rm(root, { recursive: true, force: true });
});

async function workspace(runId = "run"): Promise<string> {
  const ws = await makeWorkspace(root, runId);
  workspaces.push(ws);
  return ws.dir;
}

const rejection = async (promise: Promise<unknown>): Promise<TasterError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TasterError)) throw new Error(`expected a TasterError, got ${String(error)}`);
  return error;
};

describe("fetchRecipe", () => {
  it("checks out a pull request ref (not in a default clone) at its exact sha, with all tags", async () => {
    const url = recipeRepo(lab, "hello-web");
    const sha = await resolveRef(url, pullRef(1));
    const fetched = await fetchRecipe({ url, ref: pullRef(1), sha, workspace: await workspace() });
    expect(fetched).toMatchObject({ sha, ref: "refs/pull/1/head", refSha: sha });
    // The PR's change is what is on disk.
    expect(await readFile(join(fetched.dir, "compose.yml"), "utf8")).toContain("stop_grace_period");
    expect((await listTags(fetched.dir)).map((t) => t.tag).sort()).toEqual(["1.0.0+1.0", "1.1.0+1.1"]);
    expect(await isDirty(fetched.dir)).toBe(false);
  });

  it("takes the ref's commit when no sha is given, and the remote HEAD when no ref is", async () => {
    const url = recipeRepo(lab, "notes");
    const byRef = await fetchRecipe({ url, ref: pullRef(2), workspace: await workspace() });
    expect(byRef.sha).toBe(await resolveRef(url, "refs/pull/2/head"));
    const byDefault = await fetchRecipe({ url, workspace: await workspace() });
    expect(byDefault).toMatchObject({ ref: "HEAD", sha: await resolveRef(url, "main") });
    const byTag = await fetchRecipe({ url, ref: "0.1.0+2.0", workspace: await workspace() });
    expect(byTag.sha).toBe(await resolveRef(url, "0.1.0+2.0"));
    expect(byTag.sha).not.toBe(byDefault.sha);
  });

  it("refuses a sha the repository does not have, naming it", async () => {
    const url = recipeRepo(lab, "hello-web");
    const wrong = "0123456789abcdef0123456789abcdef01234567";
    const error = await rejection(
      fetchRecipe({ url, ref: pullRef(1), sha: wrong, workspace: await workspace() }),
    );
    expect(error.kind).toBe("usage");
    expect(error.message).toContain(wrong);
  });

  it("refuses a ref the repository does not have, naming it", async () => {
    const url = recipeRepo(lab, "hello-web");
    const error = await rejection(fetchRecipe({ url, ref: pullRef(99), workspace: await workspace() }));
    expect(error.message).toBe(`ref refs/pull/99/head not found in ${url}`);
  });

  it("refuses malformed input and missing repositories before running git", async () => {
    const ws = await workspace();
    const url = recipeRepo(lab, "hello-web");
    expect((await rejection(fetchRecipe({ url, sha: "HEAD~1", workspace: ws }))).message).toMatch(
      /not a commit sha/,
    );
    expect((await rejection(fetchRecipe({ url, ref: "--upload-pack=x", workspace: ws }))).message).toMatch(
      /not a valid git ref/,
    );
    const missing = join(lab.recipesDir, "no-such-recipe.git");
    expect((await rejection(fetchRecipe({ url: missing, workspace: ws }))).message).toContain(missing);
  });

  it("never shows a token embedded in the URL, even when the fetch fails", async () => {
    const token = `tok-${process.pid}-s3cr3t`;
    const url = `http://x-access-token:${token}@127.0.0.1:9/coop-cloud/hello-web.git`;
    const error = await rejection(fetchRecipe({ url, workspace: await workspace(), timeoutMs: 20_000 }));
    expect(error.kind).toBe("infra");
    expect(error.message).toContain("http://127.0.0.1:9/coop-cloud/hello-web.git");
    expect(`${error.message}\n${error.hint ?? ""}`).not.toContain(token);
  });

  it("accepts a relative path to a repository", async () => {
    const relative = relativePath(process.cwd(), recipeRepo(lab, "broken"));
    const fetched = await fetchRecipe({ url: `./${relative}`, workspace: await workspace() });
    expect(fetched.sha).toBe(await resolveRef(recipeRepo(lab, "broken"), "main"));
  });

  it("finds a sha the fetched ref no longer reaches (e.g. after a force-push) by asking for it", async () => {
    const url = recipeRepo(lab, "broken");
    const prSha = await resolveRef(url, pullRef(3));
    const fetched = await fetchRecipe({ url, ref: "main", sha: prSha, workspace: await workspace() });
    expect(fetched.sha).toBe(prSha);
    expect(fetched.refSha).toBe(await resolveRef(url, "main"));
  });

  it("keeps concurrent runs apart, even with the same run id", async () => {
    const hello = recipeRepo(lab, "hello-web");
    const notes = recipeRepo(lab, "notes");
    const [a, b] = await Promise.all([workspace("same"), workspace("same")]);
    expect(a).not.toBe(b);
    const [pr, main] = await Promise.all([
      fetchRecipe({ url: hello, ref: pullRef(1), workspace: a as string }),
      fetchRecipe({ url: notes, ref: "main", workspace: b as string }),
    ]);
    expect(pr.sha).toBe(await resolveRef(hello, pullRef(1)));
    expect(main.sha).toBe(await resolveRef(notes, "main"));
    expect(await readFile(join(pr.dir, "compose.yml"), "utf8")).not.toEqual(
      await readFile(join(main.dir, "compose.yml"), "utf8"),
    );
    expect((await listTags(main.dir)).map((t) => t.tag).sort()).toEqual(["0.1.0+2.0", "0.2.0+2.1"]);
  });

  it("refuses to reuse a workspace that already holds a checkout", async () => {
    const ws = await workspace();
    const url = recipeRepo(lab, "broken");
    await fetchRecipe({ url, workspace: ws });
    expect((await rejection(fetchRecipe({ url, workspace: ws }))).message).toMatch(/not empty/);
  });
});

describe("makeWorkspace", () => {
  it("cleanup removes the run's directory and nothing else", async () => {
    const keep = await workspace("keep");
    const gone = await makeWorkspace(root, "gone/../../x");
    expect(gone.dir.startsWith(root)).toBe(true);
    await gone.cleanup();
    await gone.cleanup();
    expect(existsSync(gone.dir)).toBe(false);
    expect(existsSync(keep)).toBe(true);
  });
});

describe("resolveRef", () => {
  it("resolves branches, pull refs and annotated tags to commits", async () => {
    const url = recipeRepo(lab, "hello-web");
    const main = await resolveRef(url, "main");
    expect(main).toMatch(/^[0-9a-f]{40}$/);
    // The newest release is main; an annotated tag resolves to its commit, not the tag object.
    expect(await resolveRef(url, "1.1.0+1.1")).toBe(main);
    expect(await resolveRef(url, "pull/1/head")).toBe(await resolveRef(url, "refs/pull/1/head"));
    expect((await rejection(resolveRef(url, "nope"))).message).toBe(`ref nope not found in ${url}`);
  });

  it("gives up on a remote that accepts the connection and then says nothing", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const started = Date.now();
      const error = await rejection(resolveRef(`http://127.0.0.1:${port}/hello-web.git`, "main", 1_000));
      expect(error.kind).toBe("infra");
      expect(error.message).toBe(
        `cannot list refs of http://127.0.0.1:${port}/hello-web.git: block timeout reached`,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe("head versions of a checkout", () => {
  it("labels a PR head as latest release + sha, a release head as the release, and marks dirt", async () => {
    const url = recipeRepo(lab, "hello-web");
    const pr = await fetchRecipe({ url, ref: pullRef(1), workspace: await workspace() });
    expect(versionOf(await describeHead(pr.dir, pr.sha))).toBe(`1.1.0+1.1+${pr.sha.slice(0, 8)}`);
    const main = await fetchRecipe({ url, ref: "main", workspace: await workspace() });
    expect(versionOf(await describeHead(main.dir, main.sha))).toBe("1.1.0+1.1");

    await writeFile(join(pr.dir, "compose.yml"), "# local edit\n", { flag: "a" });
    expect(chaosVersion(pr.sha, await isDirty(pr.dir))).toBe(`${pr.sha.slice(0, 8)}+U`);
  });
});
