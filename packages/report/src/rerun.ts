/**
 * What `!testme failed` re-runs, and the links a verdict gives to re-run it and to see the PR's
 * earlier attempts. One module so the bridge (which starts the re-run) and the sticky comment
 * (which offers it) always agree.
 */
import type { Results } from "@taster/contracts";
import { parseStages, type Stage, TIERS, type Tier } from "@taster/core";

/**
 * The tiers a re-run of "what failed" needs: those that failed, plus install (every run deploys
 * first; parseStages adds it). Tiers skipped because an earlier one failed are not re-run: once the
 * failure is fixed, `!testme retry` runs them all. Empty when nothing failed.
 */
export function failedTiers(results: Pick<Results, "tiers">): Stage[] {
  const failed = tiersThatFailed(results);
  return failed.length === 0 ? [] : parseStages(failed.join(","));
}

/** The tiers whose status is `fail`, in the tiers' order. */
export function tiersThatFailed(results: Pick<Results, "tiers">): Tier[] {
  return TIERS.filter((tier) => results.tiers[tier]?.status === "fail");
}

/** `${publicUrl}/prs/<forge>/<owner>/<repo>/<pr>`: every run of one pull request, newest first. */
export function pullHistoryLink(
  publicUrl: string,
  target: { forge: string; repo: string; pr: number },
): string {
  const repo = target.repo.split("/").map(encodeURIComponent).join("/");
  return `${publicUrl}/prs/${encodeURIComponent(target.forge)}/${repo}/${target.pr}`;
}

/** The verdict's last lines: the exact command to re-run what failed, and the earlier attempts. */
export function rerunLines(results: Pick<Results, "tiers" | "outcome">, historyUrl?: string): string[] {
  const failed = failedTiers(results);
  const lines: string[] = [];
  if (failed.length > 0)
    lines.push(
      `To re-run only what failed (${failed.join(" → ")}), comment \`!testme failed\` (or \`!testme ${failed.filter((s) => s !== "install").join(",") || "install"}\`); \`!testme retry\` runs every tier of this run again.`,
    );
  else if (results.outcome === "error") lines.push("To run it again, comment `!testme retry`.");
  if (historyUrl) lines.push(`[Earlier attempts on this pull request](${historyUrl})`);
  return lines.length > 0 ? [lines.join("\n\n"), ""] : [];
}

const RECHECK_WORDS = {
  "red-again": "red again: a genuine failure (the recipe, its tests or Taster), not a flake",
  green: "green this time: it failed there, so it is flaky (timing or load)",
  "not-run": "not run this time (an earlier tier stopped the run): no answer",
} as const;

/** A `!testme failed` verdict says, per re-checked tier, whether it failed again on the same commit. */
export function recheckLines(results: Pick<Results, "recheck">): string[] {
  const recheck = results.recheck;
  if (!recheck) return [];
  const rows = TIERS.flatMap((tier) => {
    const word = recheck.tiers[tier];
    return word ? [`- **${tier}** ${RECHECK_WORDS[word]}`] : [];
  });
  return ["", `Re-check of the tiers that failed in run \`${recheck.of}\` on this commit:`, "", ...rows];
}
