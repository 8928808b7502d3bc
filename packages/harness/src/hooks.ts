import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The hook runner file: a generated jest test that imports each ops.ts and calls the hook with the
 * testkit's app, so hooks run in the same sandbox (uid, env, broker, timeout) as assertions.
 * Returns null when no ops.ts mentions the hook at all (no process to spawn).
 */
export async function writeHookRunner(
  dir: string,
  hookName: string,
  opsFiles: string[],
): Promise<string | null> {
  const relevant: string[] = [];
  for (const file of opsFiles) {
    // Only a cheap text check: the parent never imports recipe code.
    if (new RegExp(`\\b${hookName}\\b`).test(await readFile(file, "utf8"))) relevant.push(file);
  }
  if (relevant.length === 0) return null;
  const lines = [
    'import { test } from "@jest/globals";',
    'import { app } from "@taster/testkit";',
    ...relevant.map((file, i) => `import * as ops${i} from ${JSON.stringify(file)};`),
    ...relevant.map(
      (file, i) => `test(${JSON.stringify(`${hookName} (${file})`)}, async () => {
  const hook = (ops${i} as Record<string, unknown>)[${JSON.stringify(hookName)}];
  if (typeof hook === "function") await hook(app);
});`,
    ),
  ];
  const path = join(dir, `${hookName}.test.ts`);
  await writeFile(path, `${lines.join("\n")}\n`, { mode: 0o644 });
  return path;
}
