import type { Host } from "@taster/swarm";
import type { LintFinding } from "./finding";

export const SCHEMA_SOURCE =
  "abra validates compose files against the Docker CLI's compose schema before interpolation (abra app new)";

/**
 * The raw compose files against the compose schema, before interpolation: the Docker CLI that
 * abra embeds does this with `docker stack config --skip-interpolation`, so `start_period:
 * ${X:-5m}` fails here as it fails at `abra app new`, although `docker stack config` (which
 * interpolates first) renders it.
 */
export async function composeSchemaFindings(
  host: Host,
  dir: string,
  files: string[],
): Promise<LintFinding[]> {
  const args = ["stack", "config", "--skip-interpolation", ...files.flatMap((file) => ["-c", file])];
  try {
    // No env: nothing is interpolated, and the recipe's values stay out of the CLI's environment.
    await host.cli(args, { cwd: dir, env: {} });
    return [];
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    if (!stderr) throw error;
    return [
      {
        check: "compose-schema",
        severity: "error",
        message: `${files.join(", ")} do not match the compose schema before interpolation: ${stderr} (abra app new refuses this; write a literal value, or move the variable where the schema takes a string)`,
        source: SCHEMA_SOURCE,
      },
    ];
  }
}
