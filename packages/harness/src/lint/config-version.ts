// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages name compose variables literally, as ${STACK_NAME}
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import type { Plan } from "@taster/swarm";
import type { LintFinding } from "./finding";

type RenderedConfigs = Record<string, { name?: string; file?: string } | null>;

/**
 * Swarm configs are immutable: an upgrade that changes a config file under the same name fails
 * ("only updates to Labels are allowed"). Co-op Cloud recipes name each config
 * `${STACK_NAME}_<name>_${<NAME>_VERSION}` and bump the version in abra.sh when the file changes.
 * Both plans are the Docker CLI's renderings, so the names compared are the deployed ones.
 */
export async function configVersionFindings(head: Plan, base: Plan, baseTag: string): Promise<LintFinding[]> {
  const headConfigs = (head.rendered.configs ?? {}) as RenderedConfigs;
  const baseConfigs = (base.rendered.configs ?? {}) as RenderedConfigs;
  const findings: LintFinding[] = [];
  for (const [key, spec] of Object.entries(headConfigs)) {
    const before = baseConfigs[key];
    if (!spec?.file || !before?.file || !spec.name || spec.name !== before.name) continue;
    const [now, then] = await Promise.all([readFile(spec.file), readFile(before.file)]);
    if (now.equals(then)) continue;
    const file = relative(head.dir, spec.file);
    findings.push({
      check: "config-version",
      severity: "error",
      message: `config ${key}: ${file} changed since ${baseTag} but its name stays ${spec.name.replace(head.stack, "${STACK_NAME}")}: ${versionHint(key)} — swarm configs cannot change in place, so every upgrade from ${baseTag} would fail`,
      source: "swarm configs are immutable; Co-op Cloud recipes version them in abra.sh (maintainers guide)",
    });
  }
  return findings;
}

const versionHint = (key: string) =>
  `bump ${key.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_VERSION (or the variable its name uses) in abra.sh`;
