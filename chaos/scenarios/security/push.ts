/**
 * A push right after a maintainer's `!testme` (issue 12, finding 3): the pushed code must never run
 * under that comment, whether the comment arrives by its webhook or, later, through the reconciler.
 */
import { STICKY_MARKER } from "@taster/forge";
import { verdictOf } from "../../invariants";
import type { World } from "../../world";
import { COMMAND, type Scenario } from "../scenario";

/** How the maintainer's comment reaches the bridge after the push. */
type Path = "webhook" | "reconciler";

function pushAfterTestme(path: Path): Scenario {
  return {
    id: `push-after-testme-${path}`,
    did:
      path === "webhook"
        ? "maintainer comments !testme on head A; the author pushes B at once; then the comment's webhook arrives; the maintainer copies the hinted !testme <B>"
        : "maintainer comments !testme on head A, its webhook lost; the author pushes B; a reconciler pass finds the comment; the maintainer copies the hinted !testme <B>",
    expected:
      "no run of B under the first comment; one reply asking for !testme <B>; one verdict on B after that",
    expect: { verdicts: 1 },
    async run(world) {
      const problems: string[] = [];
      const id = world.addComment(COMMAND);
      const pushed = await world.rev("refs/pull/1/head~1"); // the author's new code
      await world.setHead(1, pushed);
      if (path === "webhook") {
        const answer = await world.deliver(id, COMMAND, `push-${world.tag}`);
        if (answer.status !== 202) problems.push(`the comment's webhook was answered ${answer.status}`);
      } else {
        const pass = await world.stack.bridge.reconciler.reconcile();
        if (pass.recovered !== 1) problems.push(`the reconciler recovered ${pass.recovered}, not 1`);
      }
      await world.settled();
      const early = await world.stack.worker.runs.listRuns(500);
      if (early.length) problems.push(`${early.length} run(s) started under the first comment`);
      const hint = `!testme ${pushed} install`;
      const asked = replies(world);
      if (asked.length !== 1 || !asked[0]?.includes(hint))
        problems.push(`expected one reply with "${hint}", got ${asked.length}`);

      // The maintainer reviews B and copies the command: exactly B runs, once.
      const again = world.addComment(hint);
      const answer = await world.deliver(again, hint, `push-again-${world.tag}`);
      const state = await verdictOf(world);
      if (replies(world).length !== 1) problems.push(`${replies(world).length} replies in the end, not 1`);
      const runs = await world.stack.worker.runs.listRuns(500);
      return {
        observed: `runs under the first comment ${early.length}; replies ${asked.length} (${asked.length && asked[0]?.includes(hint) ? "hint to B" : "no hint"}); !testme <B> ${answer.status} → ${runs.length} run(s) of ${[...new Set(runs.map((r) => r.job.sha.slice(0, 7)))].join(",")} (B ${pushed.slice(0, 7)}), ${state}`,
        problems,
      };
    },
  };
}

/** What the bot said on PR #1 besides its sticky status comment. */
function replies(world: World): string[] {
  const { state } = world.stack.sim;
  return state
    .commentsOn(world.stack.repo, 1)
    .filter((c) => c.user === state.botLogin && !c.body.includes(STICKY_MARKER))
    .map((c) => c.body);
}

export const SCENARIOS: Scenario[] = [pushAfterTestme("webhook"), pushAfterTestme("reconciler")];
