import { describe, expect, it } from "@jest/globals";
import { overlayCompose } from "../src/deploy";

// abra never writes coop-cloud.<stack>.version (the recipe's compose declares it) and sets
// chaos / chaos-version only on a chaos deploy; Taster's overlay must do the same.
const plan = {
  stack: "s",
  appService: "app",
  services: [{ name: "app" }, { name: "db" }],
  rendered: {},
} as unknown as Parameters<typeof overlayCompose>[0];
const labelsOf = (overlay: Record<string, unknown>, service: string) =>
  (overlay as { services: Record<string, { deploy: { labels: Record<string, string> } }> }).services[service]
    ?.deploy.labels;

describe("the labels Taster's overlay adds, like abra's deploy", () => {
  it("a release deploy: only Taster's stack label, no abra label at all", () => {
    expect(labelsOf(overlayCompose(plan, { chaos: false, chaosVersion: "abcd1234" }), "app")).toEqual({
      "taster.stack": "s",
    });
  });

  it("a chaos deploy: chaos and chaos-version on the app service only, never the version label", () => {
    const overlay = overlayCompose(plan, { chaos: true, chaosVersion: "abcd1234" });
    expect(labelsOf(overlay, "app")).toEqual({
      "taster.stack": "s",
      "coop-cloud.s.chaos": "true",
      "coop-cloud.s.chaos-version": "abcd1234",
    });
    expect(labelsOf(overlay, "db")).toEqual({ "taster.stack": "s" });
  });
});
