import { TIERS } from "@taster/core";
import { USAGE } from "@taster/forge";

/** What Taster says on a PR. Plain words a maintainer can act on. */

/** The sticky comment's "queued" state is the PR comment renderer's, with the worker's states. */
export { queuedMessage, runLink } from "@taster/report";

export function untrustedMessage(user: string, repo: string, minPermission: string): string {
  const org = repo.split("/")[0] ?? "";
  return [
    `Thanks @${user}! Taster only runs tests when asked by a maintainer: a member of \`${org}\`,`,
    `someone with ${minPermission} access to \`${repo}\`, or someone listed in \`allowlist/triggerers.yml\`.`,
    "A maintainer can comment `!testme` on this pull request to start a run.",
  ].join("\n");
}

/**
 * The usage, for a trusted commenter. Nothing from the comment is repeated: a reply is the bot
 * speaking, and the comment's text (links, @team mentions) must never be said in its name.
 */
export function helpMessage(invalid = false): string {
  return invalid
    ? `Taster could not read that command: unknown tier. Known tiers: ${TIERS.join(", ")}.\n\n${USAGE}`
    : USAGE;
}

/** Why a `!testme` did not start a run although its author may trigger runs. */
export type HeadProblem = "moved" | "unknown" | "other-sha";

/**
 * The head is not (provably) the commit the commenter saw: nothing runs, and the maintainer gets
 * the exact command that names the current head, to comment once they have reviewed it.
 */
export function newCommandMessage(problem: HeadProblem, head: string, stages: string[]): string {
  const why = {
    moved: `the head of this pull request (\`${head.slice(0, 12)}\`) was pushed after that \`!testme\` was written, so it may not be the code that was reviewed`,
    unknown: `Taster cannot tell when the head of this pull request (\`${head.slice(0, 12)}\`) was pushed, so it cannot tell whether it is the code that was reviewed`,
    "other-sha": `that \`!testme\` names a commit, but the head moved: it is now \`${head.slice(0, 12)}\``,
  }[problem];
  const named = stages.length === TIERS.length ? "" : ` ${stages.join(",")}`;
  return [
    "### 🧪 Taster: not started",
    "",
    `Nothing was run: ${why}.`,
    "",
    `If you have reviewed commit \`${head}\`, comment this to test exactly that commit:`,
    "",
    "```",
    `!testme ${head}${named}`,
    "```",
  ].join("\n");
}
