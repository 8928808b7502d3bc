/**
 * GitHub and Gitea commands at once on the same host: every verdict goes back to the forge its
 * command came from, through that forge's API, and never to the other one.
 */
import type { RecordedCall } from "@taster/forge-sim";
import { verdictOf } from "../invariants";
import type { World } from "../world";
import { COMMAND, type Scenario, tally, untilAllFinished } from "./scenario";

const PRS = [1, 2, 3];
/** Commands per PR: the repeats coalesce onto the PR's one run. */
const PER_PR = 2;

const mixedForgeBurst: Scenario = {
  id: "mixed-forge-burst",
  did: `${PRS.length * PER_PR * 2} !testme at once over ${PRS.length} GitHub PRs and ${PRS.length} Gitea PRs of the same recipe, one host (capacity 1)`,
  expected:
    "each PR one verdict, its sticky comment and statuses written through its own forge's API only; nothing crossed",
  expect: { verdicts: 1, prs: PRS.length },
  // Its own mirror of hello-web, so PRs #2 and #3 can be pushed to the head PR #1 has.
  world: { giteaRepo: true, recipe: { name: "hello-web", pr: 1 } },
  async run(world) {
    const [githubRepo = "", giteaRepo = ""] = world.repos;
    for (const repo of world.repos) for (const pr of PRS) await world.setHead(pr, world.sha, repo);
    let n = 0;
    const testme = (repo: string, pr: number) => {
      const id = world.addComment(COMMAND, pr, repo);
      return world.deliver(id, COMMAND, `mixed-${world.tag}-${++n}`, pr, repo);
    };
    // Interleaved, so the two forges' commands reach the bridge and the host queue mixed.
    const answers = await Promise.all(
      PRS.flatMap((pr) =>
        Array.from({ length: PER_PR }, () => world.repos.map((repo) => testme(repo, pr))).flat(),
      ),
    );
    const states: string[] = [];
    for (const repo of world.repos)
      for (const pr of PRS) states.push(await verdictOf(world, 600_000, pr, repo));
    await untilAllFinished(world, 60_000);

    const problems: string[] = [];
    if (answers.some((a) => a.status !== 202))
      problems.push(`answers ${tally(answers.map((a) => a.status))}`);
    const crossed = [...crossings(world, githubRepo, "github"), ...crossings(world, giteaRepo, "gitea")];
    if (crossed.length) problems.push(`writes through the wrong forge: ${crossed.slice(0, 3).join("; ")}`);
    // The PRs of one repo share their head sha, so its statuses: one final summary per repo at least.
    for (const repo of world.repos) {
      const summary = world.stack.sim.state.statuses.filter((s) => s.repo === repo && s.context === "taster");
      if (!summary.some((s) => s.state === "success" || s.state === "failure"))
        problems.push(`${repo}: no final taster status`);
    }
    const writes = (repo: string) => writesOn(world, repo).length;
    return {
      observed: `${answers.length} answers ${tally(answers.map((a) => a.status))}; verdicts ${tally(states)}; writes GitHub ${writes(githubRepo)} (all via the GitHub API), Gitea ${writes(giteaRepo)} (all via /api/v1); crossed ${crossed.length}`,
      problems,
    };
  },
};

/** The simulator's write calls about `repo` (its REST paths name it). */
function writesOn(world: World, repo: string): RecordedCall[] {
  return world.stack.sim.calls.filter((c) => c.method !== "GET" && c.path.includes(`/repos/${repo}/`));
}

/** Writes about `repo` that went through another forge's API than `forge`. */
function crossings(world: World, repo: string, forge: "github" | "gitea"): string[] {
  return writesOn(world, repo)
    .filter((c) => c.api !== forge)
    .map((c) => `${c.api} ${c.method} ${c.path}`);
}

export const MIXED_FORGE_SCENARIOS: Scenario[] = [mixedForgeBurst];
