import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { configError, isSteeringKey, TIERS, usageError } from "@taster/core";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { NO_UPGRADE_BASE } from "./upgrade-base";
import { parseReleaseTag } from "./versions";

/** Every status from 200 to 399: any success or redirect counts as serving. */
export const DEFAULT_ACCEPTABLE_STATUSES: readonly number[] = Array.from({ length: 200 }, (_, i) => 200 + i);

/** Install is never N/A: without it nothing was tested. */
const NA_TIERS = TIERS.filter((t) => t !== "install");

const seconds = z.number().int().positive();
const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
  .refine((key) => !isSteeringKey(key), {
    error: (issue) =>
      `${String(issue.input)} would steer the programs Taster runs and is refused (see docs/swarm.md)`,
  });

/** The schema of `recipes-tests/<recipe>/taster.yml`; its descriptions are the docs (docs/settings.md). */
export const SettingsSchema = z.strictObject({
  deployTimeout: seconds
    .optional()
    .describe(
      "Seconds to wait for the deployment to converge. Default: the recipe's `coop-cloud.<stack>.timeout` label, else the host's default.",
    ),
  healthPath: z
    .string()
    .startsWith("/", "must start with /")
    .default("/")
    .describe("HTTP path the generic assertions request to decide the app is serving."),
  // No defaults for the serving target: a default is not an override of the recipe's own
  // traefik labels (packages/harness/src/serving.ts reads those first).
  healthService: z
    .string()
    .min(1)
    .optional()
    .describe("The service that answers HTTP. Default: the service with `traefik.enable=true`, else `app`."),
  healthPort: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe(
      "The port it answers on, inside the stack network. Default: its `traefik.http.services.<name>.loadbalancer.server.port` label, else 80.",
    ),
  healthHost: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:[0-9]+)?$/, "must be a host name")
    .optional()
    .describe(
      "The Host header of that request. Default: the host named in its traefik router rule, else none.",
    ),
  acceptableStatuses: z
    .array(z.number().int().min(100).max(599))
    .min(1)
    .default([...DEFAULT_ACCEPTABLE_STATUSES])
    .describe("HTTP statuses that count as serving, as a list, e.g. `[200, 301, 302, 401]`."),
  httpTimeout: z
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe("Milliseconds one HTTP request may take."),
  upgradeBase: z
    .string()
    .refine(
      (v) => v === NO_UPGRADE_BASE || parseReleaseTag(v) !== null,
      "must be a release tag like 1.0.0+1.0, or none",
    )
    .optional()
    .describe(
      "Release to upgrade from, e.g. `1.0.0+1.0`, or `none` to declare the upgrade tier N/A. Default: the newest release older than the head.",
    ),
  na: z
    .partialRecord(z.enum(NA_TIERS), z.string().trim().min(1, "needs a reason"))
    .default({})
    .describe(
      "Tiers declared not applicable, each with its reason, e.g. `{ backup: stateless }`. Neutral in the verdict.",
    ),
  env: z
    .record(
      envName,
      z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)),
    )
    .default({})
    .describe(
      "Extra environment for the deployment (KEY: value), on top of `.env.sample`. Names that steer a process (`PATH`, `LD_*`, …) are refused.",
    ),
  secrets: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]+$/, "must be a secret name as in compose.yml (e.g. smtp_password)"),
      z.union([z.string(), z.number()]).transform((v) => String(v)),
    )
    .default({})
    .describe(
      "Test values for secrets marked `generate=false` in `.env.sample` (ones an operator inserts with `abra app secret insert`), by compose name, e.g. `{ smtp_password: s3cret }`. Without one, Taster generates a value and the manifest says so.",
    ),
  probeImage: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Image of the container that probes the app from inside the stack network (needs `sh`, `wget`, `timeout`, `httpd`). Default: the host's, from `TASTER_PROBE_IMAGES` (`busybox:1.36` for a host not listed; the lab's `taster-lab/probe:latest` for local runs).",
    ),
  backupMaxMiB: z
    .number()
    .int()
    .positive()
    .default(256)
    .describe(
      "Most MiB the backup tier may copy out of the deployment (all paths together); more fails the tier.",
    ),
  freshInstall: z
    .boolean()
    .optional()
    .describe(
      "`true` runs the fresh tier on every run: the PR head installed from scratch on a stack of its own (as `!testme fresh`). Default: only when asked.",
    ),
  warm: z
    .boolean()
    .optional()
    .describe(
      "`true` keeps a warm known-good deployment: after a green sweep the data (volumes, app env, secrets) is kept on the host; newer releases are upgraded over a copy of it, and `!testme quick` tests a pull request against a copy. Default: not warm. See docs/sweep.md.",
    ),
  tierTimeout: seconds
    .default(300)
    .describe("Seconds one tier's hook and assertions may take before they are killed."),
});

export type Settings = z.output<typeof SettingsSchema>;

/** The settings file of a recipe, relative to the recipes-tests directory. */
export const settingsPath = (recipesTestsDir: string, recipeName: string): string =>
  join(recipesTestsDir, recipeName, "taster.yml");

/**
 * A recipe's settings with defaults applied; no file means all defaults. Any unknown key or
 * wrong value is an error naming the key and the file, so a typo never passes silently.
 */
export async function loadSettings(recipesTestsDir: string, recipeName: string): Promise<Settings> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(recipeName)) throw usageError(`not a recipe name: ${recipeName}`);
  const file = settingsPath(recipesTestsDir, recipeName);
  const text = await readIfExists(file);
  if (text === undefined) {
    if ((await readIfExists(`${file.slice(0, -4)}.yaml`)) !== undefined) {
      throw configError(`${file.slice(0, -4)}.yaml is not read: Taster's settings file is taster.yml`);
    }
    return SettingsSchema.parse({});
  }
  return parseSettings(text, file);
}

/** Validates settings text; `file` is named in every error. */
export function parseSettings(text: string, file: string): Settings {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw configError(`${file}: not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  const result = SettingsSchema.safeParse(raw);
  if (result.success) return result.data;
  throw configError(`${file}: ${result.error.issues.map(describeIssue).join("; ")}`, "see docs/settings.md");
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys" && where === "na") {
    return `na: ${issue.keys.map((k) => `"${k}"`).join(", ")} cannot be declared N/A (only ${NA_TIERS.join(", ")})`;
  }
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => `"${where ? `${where}.` : ""}${k}"`).join(", ");
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${keys}`;
  }
  if (issue.code === "invalid_key")
    return `${where}: invalid key (${issue.issues[0]?.message ?? issue.message})`;
  return `${where || "settings"}: ${issue.message}`;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
