import type { App } from "@taster/testkit";

// The notes recipe keeps its data in /var/lib/notes/notes.db in the `db` service; backups go
// through a dump (pre-hook) and a load (restore post-hook). These hooks prove that chain works.
export const NOTES_DB = "/var/lib/notes/notes.db";
export const NOTE_KEY = "notes.note";

const sh = (app: App, script: string, ...args: string[]) =>
  app.exec("db", ["sh", "-c", script, "sh", ...args]);

/** Before the upgrade: write a note the upgrade must keep. */
export async function preUpgrade(app: App): Promise<void> {
  const note = `taster note ${app.context.sha.slice(0, 8)} ${Date.now()}`;
  const wrote = await sh(app, 'printf "%s\\n" "$1" >> "$2"', note, NOTES_DB);
  if (wrote.exitCode !== 0) throw new Error(`writing a note failed: ${wrote.stderr}`);
  await app.state.set(NOTE_KEY, note);
}

/** After the backup, before the restore: lose the data, so only the restore can bring it back. */
export async function preRestore(app: App): Promise<void> {
  const wiped = await sh(app, ': > "$1"', NOTES_DB);
  const left = await app.exec("db", ["cat", NOTES_DB]);
  if (wiped.exitCode !== 0 || left.stdout !== "") throw new Error("could not wipe notes.db before restore");
}
