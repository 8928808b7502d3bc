import { realpath } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { recipeError, TasterError } from "@taster/core";
import { DEFAULT_SECRET_HINT, loadAppEnv, type SecretHint } from "@taster/recipe";
import { parse as parseYaml } from "yaml";
import type { Host } from "./host";
import { appLabel } from "./labels";

export const DEFAULT_SECRET_LENGTH = 32;
export const DEFAULT_TIMEOUT_SECONDS = 300;

export interface PlannedService {
  /** The compose name, e.g. `app`. */
  name: string;
  /** The swarm service name, `<stack>_<name>`. */
  fullName: string;
  image: string;
  /** Service (deploy) labels: what backup-bot-two and abra read. */
  labels: Record<string, string>;
  healthcheck?: unknown;
  mounts: { type: string; source: string; target: string }[];
  networks: string[];
}

export interface Plan {
  stack: string;
  domain: string;
  dir: string;
  env: Record<string, string>;
  composeFiles: string[];
  appService: string;
  services: PlannedService[];
  /** Secrets the deployer must create (external ones); others come with the stack deploy. */
  secrets: { name: string; fullName: string; length: number; hint: SecretHint; external: boolean }[];
  configs: { name: string; fullName: string }[];
  /** Full network names, external ones included. */
  networks: string[];
  /** Full volume names. */
  volumes: string[];
  timeoutSeconds: number;
  backupCapable: boolean;
  /** The Docker CLI's rendering (`docker stack config`), parsed. */
  rendered: RenderedCompose;
}

export interface PlanOptions {
  dir: string;
  stack: string;
  domain: string;
  env?: Record<string, string>;
  /** Where `env` comes from, named in errors (e.g. "--env"). */
  envFrom?: string;
  /** The app's env file instead of the recipe's `.env.sample` (an operator's `.env`, see app-env.ts). */
  envFile?: { text: string; name: string };
  /** Renderings to reuse (see RenderCache): only for a checkout that no longer changes. */
  renders?: RenderCache;
}

/**
 * `docker stack config` outputs of one run, by what the rendering depends on (directory, compose
 * files, env). A run plans the same checkout with the same env more than once — lint, then install
 * with an app .env that is the same .env.sample, then the upgrade when the app env is the head's
 * own — and each rendering is a Docker CLI process. Its checkouts never change while it runs.
 */
export class RenderCache {
  private readonly outputs = new Map<string, Promise<string>>();

  /** The output for these inputs: rendered once; a rendering that failed is not kept. */
  get(key: string, render: () => Promise<string>): Promise<string> {
    const known = this.outputs.get(key);
    if (known) return known;
    const output = render();
    this.outputs.set(key, output);
    output.catch(() => this.outputs.delete(key));
    return output;
  }
}

/** The parts of `docker stack config` output a plan reads. */
interface RenderedCompose {
  services?: Record<string, RenderedService>;
  networks?: Record<string, { name?: string; external?: boolean } | null>;
  volumes?: Record<string, { name?: string; external?: boolean } | null>;
  secrets?: Record<string, { name?: string; external?: boolean; file?: string } | null>;
  configs?: Record<string, { name?: string; external?: boolean; file?: string } | null>;
}

interface RenderedService {
  image?: string;
  deploy?: { labels?: Record<string, string> };
  healthcheck?: unknown;
  volumes?: { type?: string; source?: string; target?: string }[];
  networks?: Record<string, unknown> | string[];
  env_file?: (string | { path?: string })[] | string;
}

/** Assembles the env the abra way, renders the compose files with the Docker CLI and reads the result. */
export async function planRecipe(host: Host, opts: PlanOptions): Promise<Plan> {
  const { env, composeFiles, secretLengths, secretHints } = await loadAppEnv(opts.dir, {
    stackName: opts.stack,
    domain: opts.domain,
    ...(opts.env ? { overrides: opts.env } : {}),
    ...(opts.envFrom ? { overridesFrom: opts.envFrom } : {}),
    ...(opts.envFile ? { envFile: opts.envFile } : {}),
  });
  const rendered = await renderCompose(host, opts.dir, composeFiles, env, opts.renders);
  await checkFilesInsideRecipe(opts.dir, rendered);
  const services = Object.entries(rendered.services ?? {}).map(([name, service]) =>
    plannedService(opts.stack, name, service, rendered.volumes ?? {}),
  );
  const first = services[0];
  if (!first) throw recipeError(`${composeFiles.join(", ")} define no services`);
  const appService = services.some((service) => service.name === "app") ? "app" : first.name;
  return {
    stack: opts.stack,
    domain: env.DOMAIN ?? opts.domain,
    dir: opts.dir,
    env,
    composeFiles,
    appService,
    services,
    secrets: Object.entries(rendered.secrets ?? {}).map(([name, spec]) => ({
      name,
      fullName: fullName(opts.stack, name, spec),
      length: secretLengths[name] ?? DEFAULT_SECRET_LENGTH,
      hint: secretHints[name] ?? DEFAULT_SECRET_HINT,
      external: spec?.external === true,
    })),
    configs: Object.entries(rendered.configs ?? {}).map(([name, spec]) => ({
      name,
      fullName: fullName(opts.stack, name, spec),
    })),
    networks: Object.entries(rendered.networks ?? {}).map(([name, spec]) => fullName(opts.stack, name, spec)),
    volumes: Object.entries(rendered.volumes ?? {}).map(([name, spec]) => fullName(opts.stack, name, spec)),
    timeoutSeconds: timeoutFromLabels(opts.stack, services),
    backupCapable: services.some((service) => service.labels["backupbot.backup"] === "true"),
    rendered,
  };
}

async function renderCompose(
  host: Host,
  dir: string,
  composeFiles: string[],
  env: Record<string, string>,
  renders?: RenderCache,
): Promise<RenderedCompose> {
  const args = ["stack", "config", ...composeFiles.flatMap((file) => ["-c", join(dir, file)])];
  const render = async () => (await host.cli(args, { cwd: dir, env })).stdout;
  const key = JSON.stringify([dir, composeFiles, Object.entries(env).sort(([a], [b]) => a.localeCompare(b))]);
  try {
    const stdout = await (renders ? renders.get(key, render) : render());
    // Parsed per plan: every plan has its own objects, whoever else rendered the same.
    return (parseYaml(stdout) ?? {}) as RenderedCompose;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    if (error instanceof TasterError && stderr) {
      throw recipeError(`compose files ${composeFiles.join(", ")} do not render: ${stderr}`);
    }
    throw error;
  }
}

/**
 * The Docker CLI reads `env_file`s and file-based secrets and configs on Taster's machine and
 * sends their content to the stack: each must be a file of the recipe (symlinks followed), or a
 * compose file could hand the worker's own files (its env, keys, token) to the PR's containers.
 */
async function checkFilesInsideRecipe(dir: string, rendered: RenderedCompose): Promise<void> {
  const refs: { what: string; path: string }[] = [];
  for (const [name, service] of Object.entries(rendered.services ?? {})) {
    for (const entry of [service.env_file ?? []].flat()) {
      const path = typeof entry === "string" ? entry : entry.path;
      if (path) refs.push({ what: `service ${name}: env_file`, path });
    }
  }
  for (const kind of ["secrets", "configs"] as const) {
    for (const [name, spec] of Object.entries(rendered[kind] ?? {}))
      if (spec?.file) refs.push({ what: `${kind.slice(0, -1)} ${name}: file`, path: spec.file });
  }
  const root = await realpath(dir);
  for (const ref of refs) {
    const path = resolve(dir, ref.path);
    const target = await realpath(path).catch(() => path);
    if (target !== root && !target.startsWith(root + sep)) {
      throw recipeError(
        `${ref.what} ${ref.path} is outside the recipe: Taster deploys only files of the recipe itself`,
      );
    }
  }
}

function plannedService(
  stack: string,
  name: string,
  service: RenderedService,
  volumes: NonNullable<RenderedCompose["volumes"]>,
): PlannedService {
  const planned: PlannedService = {
    name,
    fullName: `${stack}_${name}`,
    image: service.image ?? "",
    labels: service.deploy?.labels ?? {},
    mounts: (service.volumes ?? []).map((mount) => ({
      type: mount.type ?? "volume",
      source:
        mount.type === "volume" || !mount.type
          ? volumeName(stack, mount.source ?? "", volumes)
          : (mount.source ?? ""),
      target: mount.target ?? "",
    })),
    networks: Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {}),
  };
  if (!service.image) throw recipeError(`service ${name} has no image`);
  if (service.healthcheck !== undefined) planned.healthcheck = service.healthcheck;
  return planned;
}

// Anonymous volumes have no source; named ones become `<stack>_<name>` like every stack object.
function volumeName(stack: string, source: string, volumes: NonNullable<RenderedCompose["volumes"]>): string {
  if (!source) return "";
  return source in volumes ? fullName(stack, source, volumes[source]) : source;
}

function fullName(
  stack: string,
  name: string,
  spec: { name?: string; external?: boolean } | null | undefined,
): string {
  if (spec?.name) return spec.name;
  return spec?.external ? name : `${stack}_${name}`;
}

function timeoutFromLabels(stack: string, services: PlannedService[]): number {
  const key = appLabel(stack, "timeout");
  for (const service of services) {
    const value = service.labels[key];
    if (value === undefined) continue;
    const seconds = Number(value);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw recipeError(`label ${key}=${value} on service ${service.name} is not a number of seconds`);
    }
    return seconds;
  }
  return DEFAULT_TIMEOUT_SECONDS;
}
