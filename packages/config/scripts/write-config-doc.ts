// Regenerates docs/configuration.md from the configuration schema:
//   ./node_modules/.bin/tsx packages/config/scripts/write-config-doc.ts
import { writeFile } from "node:fs/promises";
import { CONFIG_DOC_PATH, configurationPage } from "../src/doc";

await writeFile(CONFIG_DOC_PATH, configurationPage());
console.log(`wrote ${CONFIG_DOC_PATH}`);
