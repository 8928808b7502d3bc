import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Sweep, SweepRow, SweepTier } from "@taster/contracts";
import { ensureLab } from "@taster/lab";
import { connectRedis, type Redis, SweepStore } from "@taster/queue";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type DashboardFixture, startDashboard } from "./dashboard-fixtures";

/** Screenshots for people to look at (gitignored), next to the other dashboard ones. */
const ARTIFACTS = join(import.meta.dirname, "..", "..", "..", "test-artifacts", "dashboard");

let dash: DashboardFixture;
let redis: Redis;
let profile: string;
let browser: BrowserContext;
let page: Page;

const tier = (status: SweepTier["status"], extra: Partial<SweepTier> = {}): SweepTier => ({
  status,
  durationMs: 5_000,
  ...extra,
});
const row = (recipe: string, level: number, version: string, tiers: Record<string, SweepTier>): SweepRow => ({
  recipe,
  repo: `coop-cloud/${recipe}`,
  version,
  base: null,
  sha: "a".repeat(40),
  level,
  verdict: level === 4 || (recipe === "notes" && level === 3) ? "pass" : "fail",
  tiers,
  classification: Object.values(tiers).find((t) => t.classification)?.classification ?? null,
  startedAt: "2026-11-01T03:00:00.000Z",
  durationMs: 60_000,
});
const sweep = (day: string, rows: SweepRow[]): Sweep => ({
  schemaVersion: 1,
  host: "unix:///var/run/docker.sock",
  startedAt: `2026-11-${day}T03:00:00.000Z`,
  finishedAt: `2026-11-${day}T03:20:00.000Z`,
  attempts: 2,
  recipes: rows,
});

beforeAll(async () => {
  const lab = await ensureLab();
  redis = connectRedis(lab.redisUrl);
  await new Promise((r) => redis.once("ready", r));
  const sweeps = new SweepStore(redis, `recipes-page-${process.pid}`);
  const green = {
    install: tier("pass"),
    upgrade: tier("pass"),
    backup: tier("pass"),
    restore: tier("pass"),
    custom: tier("pass"),
  };
  // Oldest first: hello-web L4, then L2 (backup failed, a flake), then L4 again; notes L3 throughout.
  await sweeps.save(
    sweep("02", [
      row("hello-web", 4, "1.0.0+1.0", green),
      row("notes", 3, "0.1.0+2.0", { ...green, custom: tier("na") }),
    ]),
  );
  await sweeps.save(
    sweep("09", [
      row("hello-web", 2, "1.1.0+1.1", {
        ...green,
        backup: tier("fail", { classification: "flake" }),
        restore: tier("skip"),
        custom: tier("skip"),
      }),
      row("notes", 3, "0.2.0+2.1", { ...green, custom: tier("na") }),
    ]),
  );
  await sweeps.save(
    sweep("16", [
      row("hello-web", 4, "1.1.0+1.1", green),
      row("notes", 3, "0.2.0+2.1", { ...green, custom: tier("na") }),
    ]),
  );
  dash = await startDashboard("recipes", { sweeps });
  await mkdir(ARTIFACTS, { recursive: true });
  profile = await mkdtemp(join(tmpdir(), "taster-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.TASTER_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
    ],
    viewport: { width: 1280, height: 700 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await dash?.close();
  const keys = await redis.keys(`recipes-page-${process.pid}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe("the recipes page in a real browser", () => {
  it("shows each recipe's latest level, version, last sweep, sparkline, flake rate and sweep badge", async () => {
    await page.goto(`${dash.url}/recipes`);
    const rows = await page.locator("tbody tr").allInnerTexts();
    expect(rows.map((r) => r.replace(/\s+/g, " ").trim())).toEqual([
      "hello-web L4 1.1.0+1.1 PASS 2026-11-16 03:20 UTC 100% (1/1)",
      "notes L3 0.2.0+2.1 PASS 2026-11-16 03:20 UTC –",
    ]);
    const sparks = await page
      .locator("svg.spark")
      .evaluateAll((svgs) => svgs.map((s) => s.getAttribute("aria-label")));
    expect(sparks).toEqual([
      "levels over the last 3 sweep(s): L4 L2 L4",
      "levels over the last 3 sweep(s): L3 L3 L3",
    ]);
    // The badge is the sweep's level, and it loaded in the page.
    const badge = await (await fetch(`${dash.url}/badges/notes.svg`)).text();
    expect(badge).toContain("taster: L3");
    const loaded = await page
      .locator("td img")
      .evaluateAll((imgs) => imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0));
    expect(loaded).toEqual([true, true]);
    await page.screenshot({ path: join(ARTIFACTS, "recipes.png"), fullPage: true });
  });
});
