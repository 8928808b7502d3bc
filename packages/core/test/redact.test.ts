import { describe, expect, it } from "@jest/globals";
import { REDACTED, Redactor, urlCredentials } from "../src/redact";

describe("Redactor", () => {
  it("masks every occurrence of a secret and flags the leak", () => {
    const r = new Redactor();
    r.add("s3cr3t-value");
    expect(r.redact("a s3cr3t-value b s3cr3t-value")).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(r.foundLeak).toBe(true);
  });

  it("masks the longer of two overlapping secrets whole", () => {
    const r = new Redactor();
    r.add("abcd");
    r.add("abcdefgh");
    expect(r.redact("xabcdefghx")).toBe(`x${REDACTED}x`);
  });

  it("leaves clean text alone and does not flag it", () => {
    const r = new Redactor();
    r.add("s3cr3t-value");
    expect(r.redact("nothing to see")).toBe("nothing to see");
    expect(r.foundLeak).toBe(false);
  });

  it("takes the password (or lone token) of a service URL, raw and decoded", () => {
    expect(urlCredentials("redis://:p%40ss-word@127.0.0.1:6390")).toEqual(["p%40ss-word", "p@ss-word"]);
    expect(urlCredentials("https://ghp_token123@github.com/x.git")).toEqual(["ghp_token123"]);
    expect(urlCredentials("redis://user:secret9@host")).toEqual(["secret9"]);
    expect(urlCredentials("redis://127.0.0.1:6379")).toEqual([]);
    expect(urlCredentials(undefined)).toEqual([]);
  });
});
