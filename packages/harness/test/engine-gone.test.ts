import { mkdtemp, rm } from "node:fs/promises";
import { connect as connectSocket, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ensureLab, type LabInfo, recipeRepo } from "@taster/lab";
import { type Results, runRecipe } from "../src/index";
import { residueOf } from "./lab-run";

/**
 * The engine going away mid-run, simulated by a TCP proxy in front of the lab engine's socket that
 * the test cuts (the lab's engine itself is shared and must never be restarted by a test).
 */
class EngineLink {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly socketPath: string) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const engine = connectSocket(this.socketPath);
      for (const s of [client, engine]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          engine.destroy();
        });
      }
      client.pipe(engine).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Refuses new connections and drops the open ones, as a dead engine does. */
  cut(): void {
    this.server?.close();
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
  }
}

let lab: LabInfo;
let link: EngineLink;
let results: Results;
let outDir: string;
let cutAt = "";

beforeAll(async () => {
  lab = await ensureLab();
  link = new EngineLink(new URL(lab.dockerHost).pathname);
  await link.open();
  outDir = await mkdtemp(join(tmpdir(), "taster-engine-gone-"));
  let restored: Promise<void> | undefined;
  results = await runRecipe({
    source: recipeRepo(lab, "hello-web"),
    pr: 1,
    stages: ["install"],
    hostUrl: `tcp://127.0.0.1:${link.port}`,
    outDir,
    nameSalt: `engine-gone-${process.pid}`,
    onEvent: (event) => {
      if (!cutAt && event.step === "op" && event.message.startsWith("deploy")) {
        cutAt = event.message;
        setTimeout(() => link.cut(), 1_500);
      }
      // The link comes back only once teardown says it is waiting for the engine.
      if (event.step === "teardown" && event.message.includes("waiting up to")) restored ??= link.open();
    },
  });
  await restored;
}, 300_000);

afterAll(async () => {
  link.cut();
  await rm(outDir, { recursive: true, force: true });
});

describe("the Docker engine going away mid-deploy", () => {
  test("ends as an infrastructure error naming the engine, not as a red verdict on the recipe", () => {
    expect(cutAt).not.toBe("");
    expect(results.outcome).toBe("error");
    expect(results.error).toMatch(/Docker engine went away during the install tier/);
    expect(results.error).toContain(`tcp://127.0.0.1:${link.port}`);
    expect(results.tiers.install.status).toBe("skip");
  });

  test("teardown waits for the engine to come back and leaves zero residue", async () => {
    expect(results.residue).toEqual([]);
    expect(await residueOf(lab, results.stack)).toEqual([]);
  });
});
