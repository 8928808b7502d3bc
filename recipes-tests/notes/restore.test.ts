import { expect, test } from "@jest/globals";
import { app } from "@taster/testkit";
import { NOTE_KEY, NOTES_DB } from "./ops";

test("the note wiped after the backup is back in notes.db after the restore", async () => {
  const note = await app.state.get<string>(NOTE_KEY);
  expect(note).toMatch(/^taster note /);
  const db = await app.exec("db", ["cat", NOTES_DB]);
  expect(db.stdout.split("\n")).toContain(note);
});
