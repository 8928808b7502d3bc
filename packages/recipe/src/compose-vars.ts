import { readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Variables a compose file needs from the app env: `${VAR}`, `$VAR` and `${VAR:?msg}` / `${VAR?msg}`
 * without a default. `${VAR:-d}`, `${VAR-d}` (a default) and `${VAR:+x}`, `${VAR+x}` (used only when
 * set) need nothing. `$$` is a literal dollar; YAML comment lines are not interpolated.
 * Returns variable → the first compose file that needs it.
 */
export async function varsWithoutDefault(dir: string, files: string[]): Promise<Map<string, string>> {
  const needed = new Map<string, string>();
  for (const file of files) {
    const text = await readFile(join(dir, file), "utf8").catch(() => "");
    for (const name of varsIn(text)) if (!needed.has(name)) needed.set(name, file);
  }
  return needed;
}

export function varsIn(text: string): string[] {
  const found: string[] = [];
  const body = text
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\$\$/g, "");
  for (const match of body.matchAll(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)((:?[-+?])[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
  )) {
    const name = match[1] ?? match[4];
    const op = match[3];
    if (!name || op === "-" || op === ":-" || op === "+" || op === ":+") continue;
    found.push(name);
  }
  return found;
}
