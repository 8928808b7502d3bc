// Regenerates docs/settings.md from the settings schema:
//   ./node_modules/.bin/tsx packages/recipe/scripts/write-settings-doc.ts
import { writeFile } from "node:fs/promises";
import { SETTINGS_DOC_PATH, settingsPage } from "../src/settings-doc";

await writeFile(SETTINGS_DOC_PATH, settingsPage());
console.log(`wrote ${SETTINGS_DOC_PATH}`);
