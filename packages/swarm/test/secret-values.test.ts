import { describe, expect, it } from "@jest/globals";
import { ALPHABET_DEFAULT, ALPHABET_SPECIAL } from "@taster/recipe";
import { generateSecretValue, randomSecret } from "../src/secrets";

describe("secret values the way abra generates them", () => {
  it("length=N: N characters from the charset, special characters included when asked", () => {
    const charset = ALPHABET_DEFAULT + ALPHABET_SPECIAL;
    const values = Array.from({ length: 50 }, () =>
      generateSecretValue({ length: 40, charset, generate: true }),
    );
    for (const value of values) {
      expect(value).toHaveLength(40);
      for (const char of value) expect(charset).toContain(char);
    }
    // 50 × 40 draws from 69 characters: a special one turns up (p(miss) ≈ 1e-200).
    expect(values.join("")).toMatch(/[!@#$%^&*_\-+=]/);
  });

  it("the default charset never yields the ambiguous l, I, O, 0, 1", () => {
    expect(randomSecret(2000)).toMatch(/^[^lIO01]+$/);
  });

  it("no length: a passphrase of six lowercase words joined by -", () => {
    expect(generateSecretValue({ charset: ALPHABET_DEFAULT, generate: true })).toMatch(
      /^[a-z]{3,9}(-[a-z]{3,9}){5}$/,
    );
  });
});
