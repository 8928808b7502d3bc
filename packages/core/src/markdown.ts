/**
 * Text from a pull request (test names, failure output, reasons, versions, object names) rendered
 * into what Taster writes as itself: a PR comment in GitHub/Gitea markdown, or a terminal table.
 * Such text must read as the plain text it is — never as a link, an image, HTML, a table cell
 * boundary, an @-mention or an issue reference that the bot would send in its own name.
 */

/** Zero-width space: invisible, and it stops the forge from seeing a mention, reference or URL. */
const ZWSP = "\u200B";

/** Terminal escape sequences (colours, cursor moves, OSC titles/hyperlinks), removed whole. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape sequences is the point
const ANSI = /\u001B(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001B]*(?:\u0007|\u001B\\)|[@-Z\\-_])/g;
/** Control characters other than tab and newline, and the bidirectional overrides that make text read differently from what it is. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/** Removes terminal escapes and control characters; line breaks become `\n`. */
export function printable(text: string): string {
  return text.replace(ANSI, "").replace(/\r\n?/g, "\n").replace(CONTROL, "");
}

/** One line (breaks and tabs become spaces), cut to `max` characters. */
function oneLine(text: string, max: number): string {
  const chars = [...printable(text).replace(/[\n\t]+/g, " ")];
  return chars.length > max ? `${chars.slice(0, max).join("")}…` : chars.join("");
}

/** Characters with a meaning in inline markdown (links, images, code, emphasis, HTML, entities, table cells). */
const INLINE_SYNTAX = /[\\`*_[\]()<>|~&]/g;

/**
 * One line of untrusted text as inline markdown, safe inside a table cell: line breaks become
 * spaces, syntax is backslash-escaped, and `@name`, `#123`, `GH-123` and URLs get a zero-width
 * space so they render as the same text but neither notify nor link. Cut to `max` characters
 * (before escaping, so an escape is never cut in half).
 */
export function markdownText(text: string, max = 300): string {
  return oneLine(text, max)
    .replace(INLINE_SYNTAX, "\\$&")
    .replace(/^([#+=-])/, "\\$1")
    .replace(/@(?=\w)/g, `@${ZWSP}`)
    .replace(/#(?=\d)/g, `#${ZWSP}`)
    .replace(/\b(GH)-(?=\d)/gi, `$1${ZWSP}-`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${ZWSP}.`);
}

/** The longest run of backticks in the text (0 without any). */
function longestBacktickRun(text: string): number {
  return (text.match(/`+/g) ?? []).reduce((longest, run) => Math.max(longest, run.length), 0);
}

/**
 * Untrusted text as an inline code span, exactly as written (one line, cut to `max` characters):
 * the fence is longer than any backtick run inside, so nothing can close it early. Not for table
 * cells: there a `|` ends the cell even inside code (use markdownText).
 */
export function markdownCode(text: string, max = 300): string {
  const line = oneLine(text, max);
  const fence = "`".repeat(longestBacktickRun(line) + 1);
  // A span that starts or ends with a backtick (or with spaces on both sides) needs one padding
  // space each side, which markdown strips again.
  const pad = /^[` ]|[` ]$/.test(line) && line.trim() !== "" ? " " : "";
  return `${fence}${pad}${line || " "}${pad}${fence}`;
}

/**
 * Untrusted text as a fenced code block, exactly as written: the fence is longer than any backtick
 * run inside (at least three), so no line can close it; lone carriage returns, which markdown would
 * read as line breaks outside the block's indentation, become newlines first.
 */
export function markdownCodeBlock(text: string): string {
  const body = printable(text);
  const fence = "`".repeat(Math.max(3, longestBacktickRun(body) + 1));
  return `${fence}\n${body}\n${fence}`;
}
