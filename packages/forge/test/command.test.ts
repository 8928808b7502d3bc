import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parseCommand } from "../src/command";

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
  .filter((s) => !/^\s*!testme(\s|$)/.test(s));
const inertProse = fc.array(inertLine, { maxLength: 8 }).map((lines) => lines.join("\n"));
const commandLine = fc.constantFrom("!testme", "!testme help", "!testme upgrade,backup", "!testme  restore ");

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

  it("explains an unknown stage instead of guessing", () => {
    const command = parseCommand("!testme upgrade,deploy-to-prod");
    expect(command?.kind).toBe("invalid");
    expect(command?.kind === "invalid" && command.reason).toContain("deploy-to-prod");
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
        expect(command === undefined || ["run", "help", "invalid"].includes(command.kind)).toBe(true);
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
