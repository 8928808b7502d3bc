import { readConfig } from "@taster/config";
import { printable } from "@taster/core";
import { connectHost, dropRecipe, type KnownGood, listKnownGoods } from "@taster/swarm";
import type { Command } from "commander";

interface WarmFlags {
  host?: string;
}

const short = (digest: string) => digest.slice(0, 12);

/** One line per known-good: recipe, release, commit, volumes (size, digest), when it was kept. */
function listLines(kgs: KnownGood[]): string[] {
  if (kgs.length === 0)
    return ["no warm known-good on this host (a sweep keeps one for each recipe with warm: true)"];
  const rows = kgs.map((kg) => [
    printable(kg.recipe),
    printable(kg.version),
    kg.sha.slice(0, 12),
    Object.keys(kg.volumes)
      .map((key) => `${printable(key)} ${kg.sizes?.[key] ?? "?"} KiB ${short(kg.checksums[key] ?? "")}`)
      .join(", ") || "no volumes",
    kg.keptAt,
  ]);
  const header = ["recipe", "version", "sha", "volumes (size, digest)", "kept at"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

async function withHost<T>(
  flags: WarmFlags,
  use: (host: Awaited<ReturnType<typeof connectHost>>) => Promise<T>,
) {
  const host = await connectHost(flags.host ?? readConfig().hosts.dockerHost);
  try {
    return await use(host);
  } finally {
    await host.close();
  }
}

export function registerWarm(program: Command): void {
  const warm = program
    .command("warm")
    .description(
      "the warm known-good deployments kept on a host (recipes with warm: true; see docs/sweep.md)",
    );
  warm
    .command("list")
    .description("each recipe's known-good: release, commit, volumes with size and digest, when it was kept")
    .option("--host <url>", "the swarm host (default: DOCKER_HOST, else unix:///var/run/docker.sock)")
    .action((flags: WarmFlags) =>
      withHost(flags, async (host) => {
        process.stdout.write(`${listLines(await listKnownGoods(host)).join("\n")}\n`);
      }),
    );
  warm
    .command("drop <recipe>")
    .description("remove a recipe's known-good (its volumes and record); the next sweep keeps a new one")
    .option("--host <url>", "the swarm host (default: DOCKER_HOST, else unix:///var/run/docker.sock)")
    .action((recipe: string, flags: WarmFlags) =>
      withHost(flags, async (host) => {
        for (const kg of await dropRecipe(host, recipe)) {
          const volumes = Object.values(kg.volumes).length;
          process.stdout.write(
            `dropped ${printable(kg.recipe)} ${printable(kg.version)} (${kg.id}, ${volumes} volume(s))\n`,
          );
        }
      }),
    );
}
