import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type DashboardFixture, sampleResults, startDashboard } from "./dashboard-fixtures";

/** Screenshots for people to look at (gitignored); CI can keep them as artifacts. */
const ARTIFACTS = join(import.meta.dirname, "..", "..", "..", "test-artifacts", "dashboard");
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let dash: DashboardFixture;
let profile: string;
let browser: BrowserContext;
let page: Page;

beforeAll(async () => {
  dash = await startDashboard("browser");
  await mkdir(ARTIFACTS, { recursive: true });
  profile = await mkdtemp(join(tmpdir(), "taster-chromium-"));
  // A persistent context is how Playwright takes a fresh --user-data-dir.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.TASTER_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await dash?.close();
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

const NO_TIME = { hookMs: 0, opMs: 0, assertMs: 0, totalMs: 0 };

/** A finished run that passed install and upgrade and failed backup: level L2. */
function failedAtBackup() {
  return sampleResults("hello-web", 2, {
    backup: {
      status: "fail",
      reason: "1 assertion(s) failed",
      tests: [
        {
          file: "backup.test.ts",
          name: "backup holds the content volume",
          status: "fail",
          durationMs: 800,
          failure: "expected archive to contain /var/www/index.html\nreceived: []",
        },
      ],
      timings: { hookMs: 300, opMs: 2_500, assertMs: 800, totalMs: 3_600 },
    },
    restore: { status: "skip", reason: "backup failed", tests: [], timings: NO_TIME },
    custom: {
      status: "na",
      naKind: "not-applicable",
      reason: "no custom tests",
      tests: [],
      timings: NO_TIME,
    },
  });
}

describe("dashboard in a real browser", () => {
  it("lists a failed run on the front page with the tier it failed at", async () => {
    const runId = await dash.seedRun({ recipe: "hello-web", state: "failed", results: failedAtBackup() });
    await dash.seedRun({ recipe: "notes", state: "queued" });
    await page.goto(dash.url);
    const row = page.locator(`table.runs tr[data-run="${runId}"]`);
    await expect(row.textContent()).resolves.toContain("hello-web");
    await expect(row.locator(".chip.level").textContent()).resolves.toBe("L2");
    await expect(row.locator(".chip.state-failed").textContent()).resolves.toBe("failed");
    await expect(row.locator(".failed-tier").textContent()).resolves.toBe("at backup");
    await shot("home");
  });

  it("shows the run's tier table, failure excerpt and manifest on the run page", async () => {
    const runId = await dash.seedRun({
      recipe: "hello-web",
      state: "failed",
      results: failedAtBackup(),
      log: ["[+0.0s] fetch: hello-web @ 0123456789", "[+12.0s] install › deploy: converged"],
    });
    await page.goto(dash.url);
    await page.click(`table.runs tr[data-run="${runId}"] a[href="/runs/${runId}"]`);
    await page.waitForURL(`**/runs/${runId}`);
    const rows = page.locator("table.tiers tbody tr");
    await expect(rows.count()).resolves.toBe(5);
    const cells = async (tier: string) =>
      (await page.locator(`table.tiers tr[data-tier="${tier}"] td`).allInnerTexts()).map((t) => t.trim());
    await expect(cells("install")).resolves.toEqual(["install", "✓ pass", "1/1", "5.3s", ""]);
    await expect(cells("backup")).resolves.toEqual([
      "backup",
      "✗ FAIL",
      "0/1",
      "3.6s",
      "1 assertion(s) failed",
    ]);
    await expect(cells("custom")).resolves.toEqual(["custom", "– n/a", "–", "–", "no custom tests"]);
    await expect(page.locator("h2", { hasText: "Verdict" }).textContent()).resolves.toMatch(
      /failed, level L2/,
    );
    await expect(page.locator("pre", { hasText: "expected archive" }).count()).resolves.toBe(1);
    await expect(page.locator("table.manifest-files").textContent()).resolves.toContain(
      ".taster/custom.test.ts",
    );
    await shot("run-finished");
  });

  it("grows the live log of a running run without a reload, then says the run ended", async () => {
    const runId = await dash.seedRun({
      recipe: "notes",
      state: "running",
      log: ["[+0.0s] fetch: notes @ abcdef0123"],
    });
    await page.goto(`${dash.url}/runs/${runId}`);
    await page.locator("#log-status", { hasText: /^live$/ }).waitFor();
    // Survives only as long as the page is not reloaded.
    await page.evaluate(() => {
      (globalThis as unknown as { stayed: boolean }).stayed = true;
    });
    for (const line of [
      "[+3.1s] install › deploy: 2 services",
      "[+9.4s] install › converge: all tasks running",
    ]) {
      await dash.queues.logs.appendLog(runId, line);
    }
    await page.locator("#log", { hasText: "converge: all tasks running" }).waitFor({ timeout: 10_000 });
    const log = (await page.locator("#log").textContent()) ?? "";
    expect(log.trim().split("\n")).toEqual([
      "[+0.0s] fetch: notes @ abcdef0123",
      "[+3.1s] install › deploy: 2 services",
      "[+9.4s] install › converge: all tasks running",
    ]);
    await expect(page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed)).resolves.toBe(
      true,
    );
    await shot("run-live");

    await dash.queues.logs.appendLog(runId, "worker: done");
    await dash.queues.runs.saveResult(runId, sampleResults("notes", 4), "done");
    await page.locator("#log-status", { hasText: "reload for the verdict" }).waitFor({ timeout: 10_000 });
    await expect(page.locator("#log").textContent()).resolves.toContain("worker: done");
    await page.click("#log-status a");
    await expect(page.locator("h2", { hasText: "Verdict" }).textContent()).resolves.toMatch(
      /passed, level L4/,
    );
  });

  it("shows a recipe's history and its badge", async () => {
    for (const level of [1, 3, 2, 4]) {
      await dash.seedRun({ recipe: "climber", state: "done", results: sampleResults("climber", level) });
    }
    await page.goto(`${dash.url}/recipes/climber`);
    await expect(page.locator("table.runs tbody tr").count()).resolves.toBe(4);
    await expect(page.locator("svg.sparkline circle").count()).resolves.toBe(4);
    await shot("recipe");
    // The badge as a README shows it: an image on someone else's page.
    await page.setContent(`<p>README: <img id="badge" src="${dash.url}/badges/climber.svg"></p>`);
    const size = await page.locator("#badge").evaluate((element) => {
      // No DOM lib in this tsconfig: describe the one HTMLImageElement part used here.
      const img = element as unknown as {
        decode(): Promise<void>;
        naturalWidth: number;
        naturalHeight: number;
      };
      return img.decode().then(() => [img.naturalWidth, img.naturalHeight]);
    });
    expect(size[1]).toBe(20);
    await page.screenshot({
      path: join(ARTIFACTS, "badge.png"),
      clip: { x: 0, y: 0, width: 320, height: 60 },
    });
  });
});
