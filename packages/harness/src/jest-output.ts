import { isAbsolute, relative, resolve, sep } from "node:path";

/** jest's hint after `--forceExit` (which Taster passes on purpose): noise in a run log. */
const FORCE_EXIT_HINT = /^Force exiting Jest\b/;
/** A path jest printed relative to its rootDir (Taster's work dir): `../../../../x/y.ts`. */
const UP_PATH = /(?:\.\.\/)+[^\s:()'"`]+/g;

/** `path` named as the rows name it: relative to the first base that holds it, else absolute. */
export function labelPath(path: string, bases: readonly string[]): string {
  for (const base of bases) if (path.startsWith(base + sep)) return relative(base, path);
  return path;
}

/**
 * One line of jest's output as the run log shows it: undefined for a line that says nothing about
 * the recipe (the force-exit hint); paths relative to the recipe's tests or the overlay root
 * (`_generic/install.test.ts`, `tests/taster/custom/x.test.ts`), never `../../../..` from the
 * sandbox's work dir.
 */
export function tidyJestLine(line: string, workDir: string, bases: readonly string[]): string | undefined {
  if (FORCE_EXIT_HINT.test(line.trim())) return undefined;
  return line.replace(UP_PATH, (found) => {
    const absolute = resolve(workDir, found);
    return isAbsolute(absolute) ? labelPath(absolute, bases) : found;
  });
}
