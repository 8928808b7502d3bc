import { USAGE } from "@taster/forge";

/** What Taster says on a PR. Plain words a maintainer can act on. */

export const runLink = (publicUrl: string, runId: string) => `${publicUrl}/runs/${runId}`;

export function queuedMessage(input: {
  publicUrl: string;
  runId: string;
  requestedBy: string;
  sha: string;
  stages: string[];
  host: string;
  position: number | undefined;
  superseded?: string;
}): string {
  const where =
    input.position === undefined
      ? "queued"
      : input.position === 0
        ? "running now"
        : `queued, position ${input.position}`;
  const lines = [
    `### 🧪 Taster: ${where}`,
    "",
    `Requested by @${input.requestedBy} for \`${input.sha.slice(0, 12)}\`: ${input.stages.join(" → ")} on host \`${input.host}\`.`,
    "",
    `[Live log and results](${runLink(input.publicUrl, input.runId)}) · run \`${input.runId}\``,
  ];
  if (input.superseded)
    lines.push("", `This replaces run \`${input.superseded}\`, which was for an older commit.`);
  return lines.join("\n");
}

export function untrustedMessage(user: string, repo: string, minPermission: string): string {
  const org = repo.split("/")[0] ?? "";
  return [
    `Thanks @${user}! Taster only runs tests when asked by a maintainer: a member of \`${org}\`,`,
    `someone with ${minPermission} access to \`${repo}\`, or someone listed in \`allowlist/triggerers.yml\`.`,
    "A maintainer can comment `!testme` on this pull request to start a run.",
  ].join("\n");
}

export function helpMessage(reason?: string): string {
  return reason ? `Taster could not read that command: ${reason}\n\n${USAGE}` : USAGE;
}
