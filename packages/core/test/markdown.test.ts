import { describe, expect, it } from "@jest/globals";
import { markdownCode, markdownCodeBlock, markdownText, printable } from "../src/index";

const ZWSP = "\u200B";
/** What a reader sees: escapes resolved, zero-width spaces invisible. */
const shown = (markdown: string) => markdown.replace(/\\(.)/g, "$1").replaceAll(ZWSP, "");

describe("markdownText", () => {
  const hostile = "[click](http://evil) ![img](x) <b>hi</b> @org/team #1 GH-2 www.evil.test | x &#64;y";

  it("leaves no link, image, HTML, cell boundary, mention, reference or autolink", () => {
    const md = markdownText(hostile);
    expect(md).not.toMatch(/(^|[^\\])[[\]()<>|&]/);
    expect(md).not.toMatch(/@\w|#\d|GH-\d|:\/\/|www\./);
  });

  it("reads as the same text", () => {
    expect(shown(markdownText(hostile))).toBe(hostile);
    expect(shown(markdownText("snake_case *stars* `tick` \\ back"))).toBe(
      "snake_case *stars* `tick` \\ back",
    );
  });

  it("is one line, without control characters or terminal escapes, cut before escaping", () => {
    expect(markdownText("a\nb\r\nc\u001b[31md\u0007\u202Ee")).toBe("a b cde");
    expect(markdownText("|".repeat(10), 4)).toBe("\\|\\|\\|\\|…");
    expect(markdownText("- not a list")).toBe("\\- not a list");
  });
});

describe("markdownCode", () => {
  it("holds backticks without being closed early", () => {
    expect(markdownCode("plain")).toBe("`plain`");
    expect(markdownCode("a ` b")).toBe("``a ` b``");
    expect(markdownCode("`x`")).toBe("`` `x` ``");
    expect(markdownCode("1.0.0+1.0`[x](http://evil)`")).toBe("`` 1.0.0+1.0`[x](http://evil)` ``");
  });
});

describe("markdownCodeBlock", () => {
  it("uses a fence longer than any backtick run inside", () => {
    expect(markdownCodeBlock("a\n```\n# heading")).toBe("````\na\n```\n# heading\n````");
    expect(markdownCodeBlock("plain")).toBe("```\nplain\n```");
  });

  it("turns lone carriage returns into newlines, so no line escapes the block's indentation", () => {
    expect(markdownCodeBlock("a\rb")).toBe("```\na\nb\n```");
  });
});

describe("printable", () => {
  it("keeps tabs and newlines, drops colours, OSC hyperlinks and bidi overrides", () => {
    expect(
      printable("\u001b[1;31mred\u001b[0m\t\u001b]8;;http://x\u0007link\u001b]8;;\u0007\n\u202Eevil"),
    ).toBe("red\tlink\nevil");
  });
});
