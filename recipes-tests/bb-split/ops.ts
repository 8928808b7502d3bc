import type { App } from "@taster/testkit";

// bb-split keeps its data in /var/lib/bb/data.db in the `db` service; the backup label sits on
// `app`, the dump (backup pre-hook) and the load (restore post-hook) on `db`. These hooks prove
// the app's data, not just the backed-up files, comes back.
export const DATA_DB = "/var/lib/bb/data.db";
export const ROW_KEY = "bb-split.row";

const sh = (app: App, script: string, ...args: string[]) =>
  app.exec("db", ["sh", "-c", script, "sh", ...args]);

/** Before the backup: a row the restore must bring back. */
export async function preBackup(app: App): Promise<void> {
  const row = `taster row ${app.context.sha.slice(0, 8)} ${Date.now()}`;
  const wrote = await sh(app, 'printf "%s\\n" "$1" >> "$2"', row, DATA_DB);
  if (wrote.exitCode !== 0) throw new Error(`writing a row failed: ${wrote.stderr}`);
  await app.state.set(ROW_KEY, row);
}

/** After the backup, before the restore: lose the data, so only the restore post-hook can bring it back. */
export async function preRestore(app: App): Promise<void> {
  const wiped = await sh(app, ': > "$1"', DATA_DB);
  const left = await app.exec("db", ["cat", DATA_DB]);
  if (wiped.exitCode !== 0 || left.stdout !== "") throw new Error("could not wipe data.db before restore");
}
