/** One line of the doctor's report: what was checked, whether it is fine, and how to fix it if not. */
export interface Finding {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** Not checked because an earlier check failed (neither fine nor another problem). */
  skipped?: boolean;
}

const CHECK_WIDTH = 14;

/** `ok    <check>  <detail>`, `FAIL  …` with `fix: …` on the next line, `skip  …`. */
export function formatFinding(f: Finding): string {
  const mark = f.skipped ? "skip" : f.ok ? "ok  " : "FAIL";
  const line = `${mark}  ${f.check.padEnd(CHECK_WIDTH)} ${f.detail}\n`;
  if (f.ok || f.skipped || !f.fix) return line;
  return `${line}${" ".repeat(CHECK_WIDTH + 7)}fix: ${f.fix}\n`;
}

export const failed = (findings: Finding[]): number => findings.filter((f) => !f.ok && !f.skipped).length;
