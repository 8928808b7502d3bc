import { createServer } from "node:http";
import { describe, expect, it } from "@jest/globals";
import type { Sweep, SweepRow } from "@taster/contracts";
import { levelChanges, notifyLevelChanges } from "../src/level-notice";

const row = (recipe: string, level: number): SweepRow => ({
  recipe,
  repo: `coop-cloud/${recipe}`,
  version: "1.1.0+1.1",
  base: "1.0.0+1.0",
  sha: "a".repeat(40),
  level,
  verdict: level === 4 ? "pass" : "fail",
  tiers: {},
  classification: level === 4 ? null : "genuine",
  startedAt: "2026-12-01T03:00:00.000Z",
  durationMs: 1,
});
const sweep = (...rows: SweepRow[]): Sweep => ({
  schemaVersion: 1,
  host: "unix:///var/run/docker.sock",
  startedAt: "2026-12-01T03:00:00.000Z",
  finishedAt: "2026-12-01T03:10:00.000Z",
  attempts: 2,
  recipes: rows,
});

describe("level-change notices", () => {
  it("one per recipe whose level moved; none for an unchanged or new recipe", () => {
    const changes = levelChanges(
      sweep(row("hello-web", 4), row("notes", 3), row("pg-app", 4)),
      sweep(row("hello-web", 2), row("notes", 3), row("pg-app", 4), row("pg-app", 4), row("new", 1)),
    );
    expect(changes.map((c) => c.text)).toEqual(["hello-web 1.1.0+1.1: level down L4 → L2 (fail, genuine)"]);
  });

  it("are POSTed as JSON to the webhook", async () => {
    const bodies: unknown[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        bodies.push({ type: req.headers["content-type"], body: JSON.parse(body) });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    try {
      const changes = levelChanges(sweep(row("hello-web", 2)), sweep(row("hello-web", 4)));
      expect(await notifyLevelChanges(`http://127.0.0.1:${port}/hook`, changes, () => undefined)).toBe(1);
      expect(bodies).toEqual([
        {
          type: "application/json",
          body: expect.objectContaining({
            recipe: "hello-web",
            from: 2,
            to: 4,
            text: expect.stringContaining("level up"),
          }),
        },
      ]);
    } finally {
      server.close();
    }
  });
});
