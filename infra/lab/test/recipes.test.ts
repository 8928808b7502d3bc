import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "../src/index";

const git = async (repo: string, ...args: string[]) =>
  (await promisify(execFile)("git", ["--git-dir", repo, ...args])).stdout.trim();

let lab: LabInfo;
beforeAll(async () => {
  lab = await ensureLab();
});

const expected: Record<string, { tags: string[]; pull: number }> = {
  "hello-web": { tags: ["1.0.0+1.0", "1.1.0+1.1"], pull: 1 },
  notes: { tags: ["0.1.0+2.0", "0.2.0+2.1"], pull: 2 },
  broken: { tags: ["0.1.0+1.0"], pull: 3 },
  "pg-app": { tags: ["0.1.0+1.0", "0.2.0+1.1"], pull: 4 },
  "maria-app": { tags: ["0.1.0+1.0", "0.2.0+1.1"], pull: 7 },
};

describe.each(Object.entries(expected))("sample recipe %s", (name, { tags, pull }) => {
  it("has annotated release tags, oldest first on main", async () => {
    const repo = recipeRepo(lab, name);
    const listed = (await git(repo, "tag", "--list", "--sort=creatordate")).split("\n");
    expect(listed).toEqual(tags);
    for (const tag of tags) expect(await git(repo, "cat-file", "-t", tag)).toBe("tag");
    // Each release is an ancestor of the next, and the newest is main.
    for (let i = 1; i < tags.length; i++) {
      await expect(
        git(repo, "merge-base", "--is-ancestor", `${tags[i - 1]}^{}`, `${tags[i]}^{}`),
      ).resolves.toBe("");
    }
    expect(await git(repo, "rev-parse", `${tags.at(-1)}^{}`)).toBe(await git(repo, "rev-parse", "main"));
  });

  it("has a pull request ref exactly one commit ahead of main", async () => {
    const repo = recipeRepo(lab, name);
    const ahead = await git(repo, "rev-list", "--count", `main..refs/pull/${pull}/head`);
    const behind = await git(repo, "rev-list", "--count", `refs/pull/${pull}/head..main`);
    expect([ahead, behind]).toEqual(["1", "0"]);
  });

  it("is a Co-op Cloud layout: compose.yml, .env.sample and release notes per tag", async () => {
    const files = (await git(recipeRepo(lab, name), "ls-tree", "-r", "--name-only", "main")).split("\n");
    expect(files).toEqual(expect.arrayContaining(["compose.yml", ".env.sample"]));
    for (const tag of tags) expect(files).toContain(`release/${tag}`);
  });
});

describe("sample pull requests carry their change", () => {
  it("notes PR #2 bumps the config version in abra.sh", async () => {
    const repo = recipeRepo(lab, "notes");
    expect(await git(repo, "show", "main:abra.sh")).toContain("APP_CONF_VERSION=v1");
    expect(await git(repo, "show", "refs/pull/2/head:abra.sh")).toContain("APP_CONF_VERSION=v2");
  });

  it("hello-web PR #1 adds a stop grace period", async () => {
    const diff = await git(
      recipeRepo(lab, "hello-web"),
      "diff",
      "main",
      "refs/pull/1/head",
      "--",
      "compose.yml",
    );
    expect(diff).toContain("+    stop_grace_period: 5s");
  });
});

describe("pg-app's pull requests each carry one realistic change", () => {
  const show = (ref: string, file: string) => git(recipeRepo(lab, "pg-app"), "show", `${ref}:${file}`);

  it("the releases run a schema migration (migration 2 in 0.2.0+1.1)", async () => {
    expect(await show("0.1.0+1.0", "app.py")).not.toContain("2: [");
    expect(await show("0.2.0+1.1", "app.py")).toContain("ADD COLUMN created_at");
    expect(await show("0.2.0+1.1", "abra.sh")).toContain("APP_PY_VERSION=v2");
  });

  it("#4 adds a migration with a default, #6 the same column without one", async () => {
    expect(await show("refs/pull/4/head", "app.py")).toContain("ADD COLUMN author text NOT NULL DEFAULT");
    expect(await show("refs/pull/6/head", "app.py")).toMatch(/ADD COLUMN author text NOT NULL"\]/);
  });

  it("#5 drops the restore post-hook and nothing else", async () => {
    const diff = await git(recipeRepo(lab, "pg-app"), "diff", "main", "refs/pull/5/head");
    expect(diff).toContain('-        backupbot.restore.post-hook: "/pg_backup.sh restore"');
    expect(diff.split("\n").filter((l) => /^[-+][^-+]/.test(l))).toHaveLength(1);
  });
});

describe("Debian-package lab images", () => {
  it("are built, each tagged with the hash of its definition", async () => {
    expect(lab.images.debian).toEqual(
      expect.arrayContaining([
        "taster-lab/postgres:15",
        "taster-lab/mariadb:10.11",
        "taster-lab/python:3.11",
      ]),
    );
    const run = promisify(execFile);
    for (const tag of lab.images.debian) {
      const name = tag.split(":")[0];
      const dir = `${import.meta.dirname}/../images/debian/${name?.replace("taster-lab/", "")}`;
      const hash = (
        await run(`${import.meta.dirname}/../images/build-debian.sh`, ["--hash", dir])
      ).stdout.trim();
      const id = async (ref: string) =>
        (
          await run("docker", ["image", "inspect", "--format", "{{.Id}}", ref], {
            env: { ...process.env, DOCKER_HOST: lab.dockerHost },
          })
        ).stdout.trim();
      expect(await id(`${name}:def-${hash}`)).toBe(await id(tag));
    }
  });
});
