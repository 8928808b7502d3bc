import { parseStages, TIERS, type Tier } from "@taster/core";

/** What a comment asks Taster to do. */
export type Command =
  | { kind: "run"; stages: Tier[] }
  | { kind: "help" }
  | { kind: "invalid"; reason: string };

export const COMMAND_WORD = "!testme";

/** GitHub caps comments at 65 536 chars; anything past that is not a human's command. */
const MAX_SCANNED_CHARS = 65_536;

export const USAGE = [
  "Taster runs a recipe's lifecycle tests against the exact commit of this pull request.",
  "",
  "Comment one of these on a line of its own:",
  "",
  "- `!testme` — all tiers (install, upgrade, backup, restore, custom)",
  "- `!testme upgrade,backup` — install plus the named tiers",
  "- `!testme help` — this message",
  "",
  `Known tiers: ${TIERS.join(", ")}. Lines inside quotes or code blocks are ignored.`,
].join("\n");

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const COMMAND_LINE = /^ {0,3}!testme(?:[ \t]+([^\n]*))?$/;

/**
 * Finds the first `!testme` command on a line of its own, ignoring quoted lines, fenced and
 * indented code blocks and near-misses like `!testmexyz`. Never throws: comment text is hostile.
 */
export function parseCommand(body: unknown): Command | undefined {
  if (typeof body !== "string") return undefined;
  for (const line of proseLines(body.slice(0, MAX_SCANNED_CHARS))) {
    const match = COMMAND_LINE.exec(line.trimEnd());
    if (match) return commandFromArgs(match[1]?.trim() ?? "");
  }
  return undefined;
}

/** The lines a human wrote as prose: not inside a code fence, not indented code, not a quote. */
function* proseLines(text: string): Generator<string> {
  let openFence: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const fence = FENCE.exec(line)?.[1];
    if (openFence) {
      // A fence closes only with the same character, at least as long, and nothing after it.
      if (
        fence !== undefined &&
        fence[0] === openFence[0] &&
        fence.length >= openFence.length &&
        line.trim() === fence
      ) {
        openFence = undefined;
      }
      continue;
    }
    if (fence) {
      openFence = fence;
      continue;
    }
    if (/^( {4}|\t)/.test(line) || /^ {0,3}>/.test(line)) continue;
    yield line;
  }
}

function commandFromArgs(args: string): Command {
  if (args === "") return { kind: "run", stages: parseStages(undefined) };
  if (args.toLowerCase() === "help") return { kind: "help" };
  const spec = args.replace(/[\s,]+/g, ",");
  try {
    return { kind: "run", stages: parseStages(spec) };
  } catch (error) {
    // The reason is echoed back on the PR: keep hostile input short.
    const reason = error instanceof Error ? error.message : String(error);
    return { kind: "invalid", reason: reason.length > 200 ? `${reason.slice(0, 200)}…` : reason };
  }
}
