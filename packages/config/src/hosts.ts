/**
 * The parsers of the list-valued variables. Each throws a plain Error saying what an entry should
 * look like; readConfig prefixes the variable's name.
 */

/** One test host: `name=url@capacity` in TASTER_HOSTS; the bridge routes to it by name. */
export interface Host {
  name: string;
  /** Its Docker engine: unix://, tcp:// or ssh://user@host. */
  url: string;
  /** Runs at once on this host (its worker's concurrency). */
  capacity: number;
}

export const HOST_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** `a, b,,c` → ["a", "b", "c"]. */
export const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * `lab=unix:///var/run/docker.sock@2,big=ssh://root@10.0.0.5@4`: the capacity follows the last '@'
 * and defaults to 1 (an ssh URL's own `user@` stays in the URL).
 */
export function parseHosts(spec: string | undefined): Host[] {
  const hosts = list(spec).map((entry) => {
    const match = /^([^=]+)=(.+?)(?:@(\d+))?$/.exec(entry);
    if (!match?.[1] || !match[2]) throw new Error(`entry "${entry}" is not name=docker-url[@capacity]`);
    const name = match[1].trim();
    if (!HOST_NAME.test(name))
      throw new Error(`host name "${name}" must be lowercase letters, digits and '-' (it names a queue)`);
    const capacity = match[3] ? Number(match[3]) : 1;
    if (capacity < 1) throw new Error(`host "${name}" needs a capacity of at least 1`);
    return { name, url: match[2].trim(), capacity };
  });
  const seen = new Set<string>();
  for (const host of hosts) {
    if (seen.has(host.name)) throw new Error(`host "${host.name}" is listed twice`);
    seen.add(host.name);
  }
  return hosts;
}

/** `key=value,…` (TASTER_RECIPE_HOSTS, TASTER_PROBE_IMAGES). */
export function parseMap(spec: string | undefined, shape: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of list(spec)) {
    const eq = entry.indexOf("=");
    const key = entry.slice(0, eq).trim();
    const value = entry.slice(eq + 1).trim();
    if (eq <= 0 || !value || /\s/.test(value)) throw new Error(`entry "${entry}" must be ${shape}`);
    map[key] = value;
  }
  return map;
}

/** A repository whose commands are taken: `owner/name` (GitHub) or `gitea:owner/name`. */
export interface EnrolledRepo {
  forge: "github" | "gitea";
  repo: string;
}

export function parseEnrolled(spec: string | undefined): EnrolledRepo[] {
  return list(spec).map((entry) => {
    const [forge, repo] = entry.includes(":") ? entry.split(":", 2) : ["github", entry];
    if ((forge !== "github" && forge !== "gitea") || !repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) {
      throw new Error(`entry "${entry}" is not owner/name or gitea:owner/name`);
    }
    return { forge, repo };
  });
}
