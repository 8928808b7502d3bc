import type { App } from "@taster/testkit";

// pg-app keeps rows in PostgreSQL behind a small HTTP API (POST/GET/DELETE /rows on :8000).
// The hooks write rows through the app — the way users do — so the upgrade and the backup/restore
// round trip are judged on real data, not on files.
export const UPGRADE_ROW_KEY = "pg-app.upgradeRow";
export const BACKUP_ROWS_KEY = "pg-app.backupRows";

export interface Row {
  id: number;
  body: string;
}

/** One request to the app from inside its own container; throws with what the app said. */
export async function api(app: App, method: string, path: string, body?: string): Promise<string> {
  const data = body === undefined ? [] : ["--data-binary", body];
  const url = `http://127.0.0.1:8000${path}`;
  const result = await app.exec("app", ["curl", "-sS", "--fail-with-body", "-X", method, ...data, url]);
  if (result.exitCode !== 0) {
    throw new Error(`${method} ${path} on the app failed: ${(result.stdout + result.stderr).trim()}`);
  }
  return result.stdout;
}

export const listRows = async (app: App): Promise<Row[]> => JSON.parse(await api(app, "GET", "/rows"));

/** Under the base release: a row the upgrade (and its schema migration) must keep. */
export async function preUpgrade(app: App): Promise<void> {
  const body = `written under ${app.context.baseVersion} before the upgrade (${app.context.sha.slice(0, 8)})`;
  await api(app, "POST", "/rows", body);
  await app.state.set(UPGRADE_ROW_KEY, body);
}

/** Before the backup: one more row, and the list the restore must bring back. */
export async function preBackup(app: App): Promise<void> {
  await api(app, "POST", "/rows", `written before the backup at ${new Date().toISOString()}`);
  const rows = await listRows(app);
  await app.state.set(
    BACKUP_ROWS_KEY,
    rows.map((row) => row.body),
  );
}

/** After the backup, before the restore: lose the data, so only the restore can bring it back. */
export async function preRestore(app: App): Promise<void> {
  await api(app, "DELETE", "/rows");
  const left = await listRows(app);
  if (left.length !== 0)
    throw new Error(`the rows could not be deleted before the restore: ${left.length} left`);
}
