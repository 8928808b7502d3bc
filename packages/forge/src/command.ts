import { OPT_IN_STAGES, parseStages, type Stage, TIERS } from "@taster/core";

/**
 * What a comment asks Taster to do. `sha` (7–40 lowercase hex) pins the run to the commit the
 * commenter named. An invalid command carries Taster's own words, never the commenter's text.
 */
export type Command =
  | { kind: "run"; stages: Stage[]; sha?: string }
  | { kind: "help" }
  | { kind: "invalid"; reason: string }
  /** The PR's last run's stages again, on its current head. */
  | { kind: "retry" }
  /** Only the tiers that failed in the last run on this head (plus install, which they need). */
  | { kind: "failed" }
  /** Stops the PR's queued or running run. */
  | { kind: "cancel" }
  /** Upgrade a copy of the recipe's warm known-good to the head (upgrade + custom tiers). */
  | { kind: "quick" };

/** The one-word commands besides `help` (no sha, no stages after them). */
export const CHATOPS_WORDS = ["retry", "failed", "cancel", "quick"] as const;

export const COMMAND_WORD = "!testme";

/** GitHub caps comments at 65 536 chars; anything past that is not a human's command. */
const MAX_SCANNED_CHARS = 65_536;

/** The only reason an invalid command is given: fixed text, so a reply never echoes the comment. */
export const UNKNOWN_TIER = "unknown tier";

export const USAGE = [
  "Taster runs a recipe's lifecycle tests against the exact commit of this pull request.",
  "",
  "Comment one of these on a line of its own:",
  "",
  "- `!testme` — all tiers (install, upgrade, backup, restore, custom) on the commit you are looking at",
  "- `!testme upgrade,backup` — install plus the named tiers",
  "- `!testme fresh` (or `!testme upgrade,fresh`) — also install the head from scratch on a stack of its own",
  "- `!testme <sha>` or `!testme <sha> upgrade,backup` — only if the pull request's head is that commit (7–40 hex characters)",
  "- `!testme retry` — the last run's tiers again, on the pull request's current head",
  "- `!testme failed` — only the tiers that failed in the last run on this commit (plus install)",
  "- `!testme quick` — upgrade a copy of the recipe's warm known-good (real aged data kept by the sweep) to the commit you are looking at, then the upgrade and custom tests; needs `warm: true` in the recipe's taster.yml",
  "- `!testme cancel` — stop this pull request's queued or running run (its deployment is torn down)",
  "- `!testme help` — this message",
  "",
  `Known tiers: ${TIERS.join(", ")}; opt-in: ${OPT_IN_STAGES.join(", ")}. Lines inside quotes, code blocks, HTML comments and \`<details>\` are ignored.`,
].join("\n");

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const COMMAND_LINE = /^ {0,3}!testme(?:[ \t]+([^\n]*))?$/;
const SHA = /^[0-9a-f]{7,40}$/i;

/**
 * Finds the first `!testme` command on a line of its own, ignoring quoted lines, fenced and
 * indented code blocks, HTML comments, `<details>` blocks and near-misses like `!testmexyz`.
 * Never throws: comment text is hostile.
 */
export function parseCommand(body: unknown): Command | undefined {
  if (typeof body !== "string") return undefined;
  for (const line of proseLines(body.slice(0, MAX_SCANNED_CHARS))) {
    const match = COMMAND_LINE.exec(line.trimEnd());
    if (match) return commandFromArgs(match[1]?.trim() ?? "");
  }
  return undefined;
}

/**
 * The lines a human reader sees as prose: not inside a code fence, not indented code, not a quote,
 * and without what the forge does not show at first sight (HTML comments, `<details>` blocks).
 */
function* proseLines(text: string): Generator<string> {
  let openFence: string | undefined;
  const hidden = new HiddenHtml();
  for (const raw of text.split("\n")) {
    const rawLine = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (openFence) {
      const fence = FENCE.exec(rawLine)?.[1];
      // A fence closes only with the same character, at least as long, and nothing after it.
      if (
        fence !== undefined &&
        fence[0] === openFence[0] &&
        fence.length >= openFence.length &&
        rawLine.trim() === fence
      ) {
        openFence = undefined;
      }
      continue;
    }
    const line = hidden.visible(rawLine);
    const fence = FENCE.exec(line)?.[1];
    if (fence) {
      openFence = fence;
      continue;
    }
    if (/^( {4}|\t)/.test(line) || /^ {0,3}>/.test(line)) continue;
    yield line;
  }
}

const HTML_MARK = /<!--|<details(?=[\s>/]|$)|<\/details(?=[\s>]|$)/gi;

/**
 * Tracks HTML comments and `<details>` blocks across lines: a command a reviewer cannot see at a
 * glance (hidden in a comment, folded into a collapsed block) must not start a run. When unsure
 * (an unclosed comment or block) the rest counts as hidden: ignoring a command is the safe side.
 */
class HiddenHtml {
  private inComment = false;
  private depth = 0;

  /** The part of `line` that is shown (text inside hidden regions and the tags themselves removed). */
  visible(line: string): string {
    let shown = "";
    let at = 0;
    while (at <= line.length) {
      if (this.inComment) {
        const end = line.indexOf("-->", at);
        if (end === -1) return shown;
        this.inComment = false;
        at = end + 3;
        continue;
      }
      HTML_MARK.lastIndex = at;
      const mark = HTML_MARK.exec(line);
      const upTo = mark ? mark.index : line.length;
      if (this.depth === 0) shown += line.slice(at, upTo);
      if (!mark) break;
      const token = mark[0].toLowerCase();
      if (token === "<!--") this.inComment = true;
      else if (token.startsWith("</")) this.depth = Math.max(0, this.depth - 1);
      else this.depth += 1;
      at = mark.index + mark[0].length;
    }
    return shown;
  }
}

function commandFromArgs(args: string): Command {
  if (args === "") return { kind: "run", stages: parseStages(undefined) };
  const word = args.toLowerCase();
  if (word === "help") return { kind: "help" };
  if ((CHATOPS_WORDS as readonly string[]).includes(word))
    return { kind: word as (typeof CHATOPS_WORDS)[number] };
  const [first = "", ...rest] = args.split(/[\s,]+/);
  const sha = SHA.test(first) ? first.toLowerCase() : undefined;
  const spec = (sha ? rest : [first, ...rest]).join(",");
  try {
    return { kind: "run", stages: parseStages(spec), ...(sha ? { sha } : {}) };
  } catch {
    // parseStages names the offending words; a reply must not repeat them (links, @mentions).
    return { kind: "invalid", reason: UNKNOWN_TIER };
  }
}
