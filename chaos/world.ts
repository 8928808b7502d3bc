/**
 * One scenario's private Taster: the local stack (lab swarm + Redis, forge simulator, bridge,
 * worker) on a PR of its own repository, so no two scenarios or rounds ever share a stack name,
 * a Redis key or a queue.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recipeOf } from "@taster/bridge";
import { stackNameFor } from "@taster/core";
import {
  giteaCommentPayload,
  githubCommentPayload,
  sendGiteaWebhook,
  sendGithubWebhook,
} from "@taster/forge-sim";
import { ensureLab, recipeRepo } from "@taster/lab";
import type { WorkerOptions } from "@taster/worker";
import { type LocalStack, startLocalStack } from "@taster/worker/local-stack";
import type { ChildConfig } from "./child";

export interface World {
  stack: LocalStack;
  /** PR #1's head sha on the forge (the sample recipe's, or the broken one's). */
  sha: string;
  /** A unique tag of this world, for delivery ids. */
  tag: string;
  /** The stack name Taster derives for PR #1 at its head sha. */
  stackName: string;
  /** The world's PR repositories: the main one, then the second host's if asked for. */
  repos: string[];
  /** Every redacted service-log line of the worker, for the secret check. */
  logLines: string[];
  /** Adds a maintainer comment on PR #pr (default 1) and returns its id (no webhook is sent). */
  addComment(body: string, pr?: number, repo?: string): number;
  /** Sends the signed `issue_comment` webhook of an existing comment. */
  deliver(
    commentId: number,
    body: string,
    deliveryId: string,
    pr?: number,
    repo?: string,
  ): Promise<{ status: number; body: string }>;
  /** Opens or pushes PR #pr at `sha`, on the forge and in the worker processes' recipe mirror. */
  setHead(pr: number, sha: string, repo?: string): Promise<void>;
  /** Resolves a ref of the recipe (e.g. "refs/pull/1/head~1") to a sha. */
  rev(ref: string): Promise<string>;
  /** What a worker process needs to serve one of this world's host queues (see child.ts). */
  childConfig(host?: 0 | 1): Promise<ChildConfig>;
  /** Waits until the bridge's intake has processed every accepted delivery. */
  settled(): Promise<boolean>;
  close(): Promise<void>;
}

let counter = 0;

export interface WorldOptions {
  /** A lab recipe other than hello-web whose PR ref becomes PR #1 (e.g. "broken", PR 3). */
  recipe?: { name: string; pr: number };
  /** Park the in-process worker on another host's queue, so only worker processes take the run. */
  externalWorkers?: boolean;
  /**
   * Turns PR #1 into a variant of the recipe: called with a checkout of its head, whose changes
   * are committed and become PR #1's head (e.g. a compose.yml whose image does not exist).
   */
  variant?: (checkout: string) => Promise<void>;
  /** Use this Redis instead of the lab's (a private one a scenario may stop). */
  redisUrl?: string;
  /** Options of the in-process worker (e.g. another host URL). */
  worker?: Partial<WorkerOptions>;
  /** A second repository of the recipe, routed to a second host queue (capacity 1, same engine). */
  secondHost?: boolean;
  /** A second repository of the recipe on Gitea (same host and worker; both forges configured). */
  giteaRepo?: boolean;
}

export async function startWorld(scenario: string, options: WorldOptions = {}): Promise<World> {
  const owner = `chaos-${scenario}-${process.pid}-${++counter}-${randomBytes(2).toString("hex")}`;
  const repo = `${owner}/${options.recipe?.name ?? "hello-web"}`;
  const secondRepo = options.secondHost ? `${repo}-b` : undefined;
  const giteaRepo = options.giteaRepo ? `${owner}-gitea/${options.recipe?.name ?? "hello-web"}` : undefined;
  const logLines: string[] = [];
  const ownRecipe = options.recipe ?? (options.variant ? { name: "hello-web", pr: 1 } : undefined);
  const mirror = ownRecipe ? await mirrorOf(ownRecipe.name) : undefined;
  const stack = await startLocalStack({
    repo,
    log: (line) => logLines.push(line),
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    ...(secondRepo ? { secondHostRecipes: [recipeOf(secondRepo)] } : {}),
    ...(giteaRepo ? { otherForgeRepo: giteaRepo } : {}),
    worker: {
      ...(mirror ? { recipeSource: () => mirror.path } : {}),
      ...(options.externalWorkers ? { host: `parked-${owner}` } : {}),
      ...options.worker,
    },
  });
  let sha = stack.headSha;
  if (mirror && ownRecipe) {
    sha = git(mirror.path, "rev-parse", `refs/pull/${ownRecipe.pr}/head`);
    if (options.variant) sha = await commitVariant(mirror, sha, options.variant);
    // The worker fetches refs/pull/<n>/head of the forge's PR number: the PR is #1 on the forge.
    git(mirror.path, "update-ref", "refs/pull/1/head", sha);
    await stack.sim.push(repo, { number: 1, headSha: sha });
  }
  if (secondRepo) stack.sim.state.setPermission(secondRepo, "alice", "write");
  const key = { repo, pr: 1, sha };
  const extraDirs: string[] = [];
  // The worker processes' mirror: the broken recipe's, or a private hello-web one made on first use.
  let lazyMirror: Promise<{ dir: string; path: string }> | undefined;
  const ownMirror = () => {
    if (mirror) return Promise.resolve(mirror);
    lazyMirror ??= mirrorOf(options.recipe?.name ?? "hello-web").then((m) => {
      extraDirs.push(m.dir);
      return m;
    });
    return lazyMirror;
  };
  return {
    stack,
    sha,
    tag: owner,
    stackName: stackNameFor(key),
    logLines,
    repos: [repo, ...(secondRepo ? [secondRepo] : []), ...(giteaRepo ? [giteaRepo] : [])],
    addComment: (body, pr = 1, onRepo = repo) => stack.sim.state.addComment(onRepo, pr, "alice", body).id,
    deliver(commentId, body, deliveryId, pr = 1, onRepo = repo) {
      const input = {
        repo: onRepo,
        pr,
        body,
        user: "alice",
        commentId,
        ...createdAtOf(stack, onRepo, commentId),
      };
      // Each repository's own forge sends the comment, signed its way.
      return stack.repos.get(onRepo) === "gitea"
        ? sendGiteaWebhook(
            stack.bridgeUrl,
            webhookSecretOf(stack),
            "issue_comment",
            giteaCommentPayload(input),
            deliveryId,
          )
        : sendGithubWebhook(
            stack.bridgeUrl,
            webhookSecretOf(stack),
            "issue_comment",
            githubCommentPayload(input),
            deliveryId,
          );
    },
    async setHead(pr, headSha, onRepo = repo) {
      const own = await ownMirror();
      execFileSync("git", ["--git-dir", own.path, "update-ref", `refs/pull/${pr}/head`, headSha]);
      await stack.sim.push(onRepo, { number: pr, headSha });
    },
    async rev(ref) {
      const own = await ownMirror();
      return execFileSync("git", ["--git-dir", own.path, "rev-parse", ref]).toString().trim();
    },
    settled: () => stack.bridge.settled(30_000),
    async childConfig(host = 0) {
      const own = await ownMirror();
      const { config } = stack.bridge;
      return {
        host: config.hosts[host]?.name ?? "",
        hostUrl: stack.lab.dockerHost,
        redisUrl: options.redisUrl ?? stack.lab.redisUrl,
        forgeUrl: stack.sim.url,
        token: config.github?.token ?? "",
        botLogin: stack.sim.state.botLogin,
        publicUrl: config.publicUrl,
        keyPrefix: config.keyPrefix,
        bullPrefix: config.bullPrefix,
        dataDir: own.dir,
        recipe: own.path,
        secrets: stack.secrets,
        lockDurationMs: 3_000,
      };
    },
    async close() {
      await stack.close();
      for (const dir of [...extraDirs, ...(mirror ? [mirror.dir] : [])])
        await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The comment's own creation time, so a late (re)delivery carries it as the forge's would. */
function createdAtOf(stack: LocalStack, repo: string, commentId: number): { createdAt?: string } {
  const createdAt = stack.sim.state.findComment(repo, commentId)?.createdAt;
  return createdAt ? { createdAt } : {};
}

function git(gitDir: string, ...args: string[]): string {
  return execFileSync("git", ["--git-dir", gitDir, ...args])
    .toString()
    .trim();
}

/** Checks out `base`, lets `variant` change the files, commits the result into the mirror. */
async function commitVariant(
  mirror: { dir: string; path: string },
  base: string,
  variant: (checkout: string) => Promise<void>,
): Promise<string> {
  const checkout = join(mirror.dir, "variant");
  execFileSync("git", ["clone", "--quiet", mirror.path, checkout]);
  const inTree = (...args: string[]) =>
    execFileSync("git", ["-C", checkout, ...args])
      .toString()
      .trim();
  inTree("checkout", "--quiet", base);
  await variant(checkout);
  inTree("add", "-A");
  inTree(
    "-c",
    "user.name=chaos",
    "-c",
    "user.email=chaos@taster.invalid",
    "commit",
    "--quiet",
    "-m",
    "chaos variant",
  );
  const sha = inTree("rev-parse", "HEAD");
  inTree("push", "--quiet", "origin", `${sha}:refs/heads/chaos-variant`);
  await rm(checkout, { recursive: true, force: true });
  return sha;
}

/** A private mirror of a lab recipe, so the lab republishing its repos cannot move it meanwhile. */
async function mirrorOf(name: string): Promise<{ dir: string; path: string }> {
  const lab = await ensureLab();
  const dir = await mkdtemp(join(tmpdir(), "taster-chaos-"));
  const path = join(dir, `${name}.git`);
  execFileSync("git", ["clone", "--quiet", "--mirror", recipeRepo(lab, name), path]);
  return { dir, path };
}

/** The stack's webhook secret: the one of its secrets the bridge was configured to verify with. */
function webhookSecretOf(stack: LocalStack): string {
  // The local stack signs both forges' webhooks with one secret.
  const secret = (stack.bridge.config.github ?? stack.bridge.config.gitea)?.webhookSecrets?.[0];
  if (!secret) throw new Error("the local stack has no webhook secret");
  return secret;
}
