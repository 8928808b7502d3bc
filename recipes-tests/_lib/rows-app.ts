import { expect } from "@jest/globals";
import type { App } from "@taster/testkit";

// The lab's database-backed recipes (pg-app, maria-app) keep rows behind a small HTTP API on :8000
// (POST/GET/DELETE /rows). Their hooks write rows through the app — the way users do — so the
// upgrade and the backup/restore round trip are judged on real data, not on files.
const UPGRADE_ROW_KEY = "rows-app.upgradeRow";
const BACKUP_ROWS_KEY = "rows-app.backupRows";

interface Row {
  id: number;
  body: string;
}

/** One request to the app from inside its own container; throws with what the app said. */
async function api(app: App, method: string, path: string, body?: string): Promise<string> {
  const data = body === undefined ? [] : ["--data-binary", body];
  const url = `http://127.0.0.1:8000${path}`;
  const result = await app.exec("app", ["curl", "-sS", "--fail-with-body", "-X", method, ...data, url]);
  if (result.exitCode !== 0) {
    throw new Error(`${method} ${path} on the app failed: ${(result.stdout + result.stderr).trim()}`);
  }
  return result.stdout;
}

const rowBodies = async (app: App): Promise<string[]> =>
  (JSON.parse(await api(app, "GET", "/rows")) as Row[]).map((row) => row.body);

/** Under the base release: a row the upgrade (and its schema migration) must keep. */
export async function preUpgrade(app: App): Promise<void> {
  const body = `written under ${app.context.baseVersion} before the upgrade (${app.context.sha.slice(0, 8)})`;
  await api(app, "POST", "/rows", body);
  await app.state.set(UPGRADE_ROW_KEY, body);
}

/** Before the backup: one more row, and the list the restore must bring back. */
export async function preBackup(app: App): Promise<void> {
  await api(app, "POST", "/rows", `written before the backup at ${new Date().toISOString()}`);
  await app.state.set(BACKUP_ROWS_KEY, await rowBodies(app));
}

/** After the backup, before the restore: lose the data, so only the restore can bring it back. */
export async function preRestore(app: App): Promise<void> {
  await api(app, "DELETE", "/rows");
  const left = await rowBodies(app);
  if (left.length !== 0)
    throw new Error(`the rows could not be deleted before the restore: ${left.length} left`);
}

export async function expectUpgradeKeptRows(app: App): Promise<void> {
  const written = await app.state.get<string>(UPGRADE_ROW_KEY);
  expect(written).toMatch(/before the upgrade/);
  expect(await rowBodies(app)).toContain(written);
}

/** `database` names it in the words a maintainer reads in the PR comment when data is lost. */
export async function expectRestoreBroughtRowsBack(app: App, database: string): Promise<void> {
  const before = (await app.state.get<string[]>(BACKUP_ROWS_KEY)) ?? [];
  expect(before.length).toBeGreaterThan(0);
  const after = new Set(await rowBodies(app));
  const missing = before.filter((body) => !after.has(body));
  const verdict =
    missing.length === 0
      ? "all rows are back"
      : `${missing.length} of ${before.length} rows written before the backup are missing after the restore: ` +
        `the backup holds the database dump, but nothing loaded it back into ${database} ` +
        "(does the db service still have its backupbot.restore.post-hook?)";
  expect(verdict).toBe("all rows are back");
}
