import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parseCommand, USAGE } from "../src/command";

const hostileChar = fc.oneof(
  fc.constantFrom("\n", "\r\n", "\0", "`", "~", ">", " ", "\t", "!", "!testme", "```", "~~~", "\u202e", "😀"),
  fc.string({ unit: "grapheme", maxLength: 3 }),
  fc.string({ unit: "binary", maxLength: 3 }),
);
const hostileText = fc.array(hostileChar, { maxLength: 200 }).map((parts) => parts.join(""));

/** Prose that neither holds a command line nor opens a code fence. */
const inertLine = fc
  .string({ unit: "grapheme", maxLength: 40 })
  .map((s) => s.replace(/[\n\r`~]/g, " "))
  .filter((s) => !/^\s*!testme(\s|$)/.test(s) && !/<!--|<\/?details/i.test(s));
const inertProse = fc.array(inertLine, { maxLength: 8 }).map((lines) => lines.join("\n"));
const commandLine = fc.constantFrom(
  "!testme",
  "!testme help",
  "!testme upgrade,backup",
  "!testme  restore ",
  "!testme retry",
  "!testme failed",
  "!testme cancel",
);

/** Ways of putting a line where it is code or a quote, not a request. */
const hidden = fc.constantFrom(
  (cmd: string) => `\`\`\`\n${cmd}\n\`\`\``,
  (cmd: string) => `\`\`\`sh\n${cmd}\n\`\`\``,
  (cmd: string) => `~~~~\n\`\`\`\n~~~\n${cmd}\n\`\`\`\n~~~~`,
  (cmd: string) => `\`\`\`\`\n\`\`\`\n${cmd}\n\`\`\`\``,
  (cmd: string) => `\`\`\`\nunclosed fence runs to the end\n${cmd}`,
  (cmd: string) => `> ${cmd}`,
  (cmd: string) => `>${cmd}`,
  (cmd: string) => `> > ${cmd}`,
  (cmd: string) => `   > ${cmd}`,
  (cmd: string) => `    ${cmd}`,
  (cmd: string) => `\t${cmd}`,
  (cmd: string) => `<!--\n${cmd}\n-->`,
  (cmd: string) => `<!-- ${cmd} -->`,
  (cmd: string) => `<!--\nan unclosed HTML comment runs to the end\n${cmd}`,
  (cmd: string) => `<details>\n<summary>logs</summary>\n\n${cmd}\n</details>`,
  (cmd: string) => `<DETAILS open>${cmd}</details>`,
  (cmd: string) => `<details><details></details>\n${cmd}\n</details>`,
);

describe("parseCommand", () => {
  it("finds a command on a line of its own", () => {
    expect(parseCommand("!testme")).toEqual({
      kind: "run",
      stages: ["install", "upgrade", "backup", "restore", "custom"],
    });
    expect(parseCommand("Looks good.\r\n\r\n!testme upgrade,backup\r\nthanks")).toEqual({
      kind: "run",
      stages: ["install", "upgrade", "backup"],
    });
    expect(parseCommand("!testme restore upgrade")).toEqual({
      kind: "run",
      stages: ["install", "upgrade", "restore"],
    });
    expect(parseCommand("please\n  !testme help  \n")).toEqual({ kind: "help" });
  });

  it("reads `!testme fresh` as every tier plus the fresh install, and `upgrade,fresh` as install+upgrade+fresh", () => {
    expect(parseCommand("!testme fresh")).toEqual({
      kind: "run",
      stages: ["install", "upgrade", "backup", "restore", "custom", "fresh"],
    });
    expect(parseCommand("!testme upgrade,fresh")).toEqual({
      kind: "run",
      stages: ["install", "upgrade", "fresh"],
    });
    expect(parseCommand("!testme help")).toEqual({ kind: "help" });
  });

  it("refuses an unknown stage in its own words, never the commenter's", () => {
    const command = parseCommand("!testme upgrade,[click](https://evil.test) @coop-cloud/admins");
    expect(command).toEqual({ kind: "invalid", reason: "unknown tier" });
    expect(JSON.stringify(command)).not.toMatch(/evil|@coop-cloud|click/);
  });

  it("reads `!testme <sha>` (7–40 hex characters), with or without stages", () => {
    const sha = "0123456789abcdef0123456789abcdef01234567";
    expect(parseCommand(`!testme ${sha}`)).toEqual({
      kind: "run",
      stages: ["install", "upgrade", "backup", "restore", "custom"],
      sha,
    });
    expect(parseCommand("!testme ABC1234 upgrade,backup")).toEqual({
      kind: "run",
      stages: ["install", "upgrade", "backup"],
      sha: "abc1234",
    });
    expect(parseCommand("!testme deadbeef restore")).toEqual({
      kind: "run",
      stages: ["install", "restore"],
      sha: "deadbeef",
    });
    // Too short, too long or not hex: not a sha, and not a tier either.
    for (const bad of ["abc123", `${sha}0`, "abc123z", "help abc1234", "abc1234 help"]) {
      expect(parseCommand(`!testme ${bad}`)).toEqual({ kind: "invalid", reason: "unknown tier" });
    }
  });

  it("reads `!testme retry`, `!testme failed` and `!testme cancel` (any case, on a line of their own)", () => {
    expect(parseCommand("!testme retry")).toEqual({ kind: "retry" });
    expect(parseCommand("Flaky network, sorry.\n\n  !testme FAILED  \r\n")).toEqual({ kind: "failed" });
    expect(parseCommand("!testme Cancel")).toEqual({ kind: "cancel" });
    expect(USAGE).toContain("`!testme retry`");
    expect(USAGE).toContain("`!testme failed`");
    expect(USAGE).toContain("`!testme cancel`");
  });

  it("reads `!testme quick` (the warm known-good's upgrade) and refuses its near-misses", () => {
    expect(parseCommand("!testme quick")).toEqual({ kind: "quick" });
    expect(parseCommand("Try it on real data:\n!testme QUICK\n")).toEqual({ kind: "quick" });
    expect(USAGE).toContain("`!testme quick`");
    for (const bad of ["quick upgrade", "quick,custom", "abc1234 quick", "quicker"]) {
      expect(parseCommand(`!testme ${bad}`)).toEqual({ kind: "invalid", reason: "unknown tier" });
    }
  });

  it("refuses near-misses of the new commands, in its own words", () => {
    // Joined words, extra arguments, a sha in front, a comma list, a look-alike letter: none is a command.
    for (const bad of [
      "retry now",
      "retry upgrade",
      "failed,upgrade",
      "cancel please",
      "abc1234 retry",
      "deadbeef cancel",
      "retried",
      "cancell",
      "faile",
      "cаncel", // Cyrillic а
      "retry @coop-cloud/admins",
    ]) {
      const command = parseCommand(`!testme ${bad}`);
      expect({ bad, command }).toEqual({ bad, command: { kind: "invalid", reason: "unknown tier" } });
    }
    // Not a command line at all: glued to the word, quoted, inside code, inside a comment.
    for (const body of [
      "!testmecancel",
      "!testme-cancel",
      "> !testme cancel",
      "```\n!testme cancel\n```",
      "    !testme cancel",
      "<!-- !testme cancel -->",
      "please !testme cancel",
    ]) {
      expect({ body, command: parseCommand(body) }).toEqual({ body, command: undefined });
    }
  });

  it("ignores commands hidden in HTML comments and <details> blocks", () => {
    for (const body of [
      "LGTM <!-- !testme -->",
      "<!--\n!testme\n-->",
      "<!-- start\n\n!testme\n",
      "<details>\n<summary>Logs</summary>\n\n!testme\n\n</details>",
      "<details open>\n!testme\n</details>",
      "<details\nopen>\n!testme\n</details>",
      "<details><details>\n</details>\n!testme\n</details>",
      "<details><!-- </details> -->\n!testme\n</details>",
    ]) {
      expect({ body, command: parseCommand(body) }).toEqual({ body, command: undefined });
    }
    // What is shown again after the comment or the block counts.
    expect(parseCommand("<!-- a note -->\n!testme install")).toEqual({ kind: "run", stages: ["install"] });
    expect(parseCommand("<details>\nlogs\n</details>\n!testme help")).toEqual({ kind: "help" });
    expect(parseCommand("<!-- a note -->!testme help")).toEqual({ kind: "help" });
  });

  it("ignores near misses, inline mentions, quotes and code", () => {
    for (const body of [
      "!testmexyz",
      "!testme-now",
      "!testme\0",
      "please !testme",
      "`!testme`",
      "!TESTME",
      "> !testme",
      "```\n!testme\n```",
      "    !testme",
      "",
    ]) {
      expect(parseCommand(body)).toBeUndefined();
    }
    expect(parseCommand(undefined)).toBeUndefined();
    expect(parseCommand(42)).toBeUndefined();
  });

  it("resumes after a closed fence", () => {
    expect(parseCommand("```\ncode\n```\n!testme help")).toEqual({ kind: "help" });
    // A shorter or different fence does not close a longer one.
    expect(parseCommand("````\n```\n!testme\n````\n!testme help")).toEqual({ kind: "help" });
  });

  it("never throws on random or hostile text (fuzzed)", () => {
    fc.assert(
      fc.property(fc.oneof(hostileText, fc.string({ unit: "binary" }), fc.string()), (body) => {
        const command = parseCommand(body);
        expect(
          command === undefined ||
            ["run", "help", "invalid", "retry", "failed", "cancel", "quick"].includes(command.kind),
        ).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("never finds a command inside code or quotes (fuzzed)", () => {
    fc.assert(
      fc.property(inertProse, commandLine, hidden, inertProse, (before, cmd, hide, after) => {
        const body = [before, hide(cmd), after].join("\n");
        // Whatever follows an unclosed fence is code too, so only the prose could hold a command.
        expect(parseCommand(body)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it("always finds a command line placed in prose (fuzzed)", () => {
    fc.assert(
      fc.property(inertProse, commandLine, inertProse, (before, cmd, after) => {
        expect(parseCommand([before, cmd, after].join("\n"))).toBeDefined();
      }),
      { numRuns: 1000 },
    );
  });

  it("handles huge bodies without throwing", () => {
    const huge = `${"x".repeat(1_000_000)}\n!testme`;
    expect(parseCommand(huge)).toBeUndefined(); // past GitHub's comment size: not a human command
    expect(parseCommand(`${"```\n".repeat(50_000)}!testme`)).toBeUndefined();
    expect(parseCommand(`${"> \n".repeat(10_000)}!testme`)).toEqual(expect.objectContaining({ kind: "run" }));
  });
});
