/**
 * Warm known-good deployments on a host: a recipe's data kept after a green sweep, never mounted by
 * a running service. Each known-good is a set of Taster-owned volumes (copies of the stack's, made
 * while its services were stopped) plus one swarm config holding what the data was written with
 * (the app's .env, the secret values) and a digest per volume. None of them carries a stack label
 * or a `<stack>_` name, so neither teardown nor the janitor ever takes them for a run's residue.
 */
import { randomBytes } from "node:crypto";
import { infraError, tolerated, usageError } from "@taster/core";
import type { Host } from "./host";
import { NAMESPACE_LABEL, STACK_LABEL } from "./labels";
import { DEFAULT_PROBE_IMAGE, FrameReader } from "./probe";

/** On every warm volume and config: the recipe it belongs to. */
export const WARM_LABEL = "taster.warm";
export const WARM_ID_LABEL = "taster.warm.id";
export const WARM_VERSION_LABEL = "taster.warm.version";
/** On a warm volume: the compose volume key it is a copy of. */
export const WARM_VOLUME_LABEL = "taster.warm.volume";

export interface KnownGood {
  recipe: string;
  /** The release the data was last deployed with (the next advance upgrades from it). */
  version: string;
  sha: string;
  /** The run's stack the data was kept from (torn down since). */
  stack: string;
  /** The app's .env as it stood after that release was deployed. */
  appEnv: { text: string; name: string };
  /** Secret values by `<name>_<version>` (the data was written with them). Never logged. */
  secrets: Record<string, string>;
  /** Compose volume key → the warm volume holding its copy. */
  volumes: Record<string, string>;
  /** Compose volume key → digest of the copy's files, taken when it was kept. */
  checksums: Record<string, string>;
  /** Compose volume key → KiB, taken when it was kept. */
  sizes: Record<string, number>;
  keptAt: string;
  /** Names this known-good's objects (`taster-warm-<recipe>-<id>…`). */
  id: string;
}

const safe = (text: string) => text.toLowerCase().replace(/[^a-z0-9.-]+/g, "-");
/**
 * No `_` anywhere: a warm name can never look like a stack object (`<stack>_<name>`). The recipe
 * part is cut to 30 characters: swarm names end at 64 (the labels keep the whole name).
 */
export const warmConfigName = (recipe: string, id: string) =>
  `taster-warm-${safe(recipe).slice(0, 30)}-${id}`;
export const warmVolumeName = (recipe: string, id: string, key: string) =>
  `${warmConfigName(recipe, id)}-${safe(key)}`;
export const newWarmId = () => `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;

/** Whether labels mark a warm object: teardown and the janitor never remove one. */
export const isWarm = (labels: Record<string, string> | undefined | null): boolean =>
  Boolean(labels?.[WARM_LABEL]);

/** The host's known-goods (of one recipe, when given), newest first. */
export async function listKnownGoods(host: Host, recipe?: string): Promise<KnownGood[]> {
  const label = recipe ? `${WARM_LABEL}=${recipe}` : WARM_LABEL;
  const configs = await host.docker.listConfigs({ filters: { label: [label] } });
  const found: KnownGood[] = [];
  for (const config of configs) {
    const data = config.Spec?.Data ?? (await host.docker.getConfig(config.ID).inspect()).Spec?.Data;
    try {
      found.push(JSON.parse(Buffer.from(data ?? "", "base64").toString("utf8")) as KnownGood);
    } catch {
      // Not ours to judge: a config that does not parse is listed by nobody and dropped by hand.
    }
  }
  return found.sort((a, b) => b.keptAt.localeCompare(a.keptAt));
}

/** The recipe's current known-good, or null. */
export async function knownGoodOf(host: Host, recipe: string): Promise<KnownGood | null> {
  return (await listKnownGoods(host, recipe))[0] ?? null;
}

/** Records a known-good whose volumes are already filled (see copyVolumes). */
export async function writeKnownGood(host: Host, kg: KnownGood): Promise<void> {
  await host.docker.createConfig({
    Name: warmConfigName(kg.recipe, kg.id),
    Labels: { [WARM_LABEL]: kg.recipe, [WARM_ID_LABEL]: kg.id, [WARM_VERSION_LABEL]: kg.version },
    Data: Buffer.from(JSON.stringify(kg)).toString("base64"),
  });
}

/** Removes a known-good's config and volumes (and any volume of its id the config lost track of). */
export async function dropKnownGood(host: Host, recipe: string, id: string): Promise<void> {
  const configs = await host.docker.listConfigs({ filters: { label: [`${WARM_ID_LABEL}=${id}`] } });
  for (const config of configs) await ignoreMissing(host.docker.getConfig(config.ID).remove());
  const { Volumes } = await host.docker.listVolumes({ filters: { label: [`${WARM_ID_LABEL}=${id}`] } });
  for (const volume of Volumes ?? []) {
    if (volume.Labels?.[WARM_LABEL] === recipe)
      await ignoreMissing(host.docker.getVolume(volume.Name).remove());
  }
}

/** Removes every known-good of a recipe; an unknown recipe is a usage error (nothing changed). */
export async function dropRecipe(host: Host, recipe: string): Promise<KnownGood[]> {
  const all = await listKnownGoods(host);
  const mine = all.filter((kg) => kg.recipe === recipe);
  if (mine.length === 0) {
    const known = [...new Set(all.map((kg) => kg.recipe))].join(", ") || "none";
    throw usageError(`no known-good for ${recipe} on this host (known-goods: ${known})`, "taster warm list");
  }
  for (const kg of mine) await dropKnownGood(host, recipe, kg.id);
  return mine;
}

/** A new warm volume for a recipe's compose volume key. */
export async function createWarmVolume(host: Host, recipe: string, id: string, key: string): Promise<string> {
  const name = warmVolumeName(recipe, id, key);
  await host.docker.createVolume({
    Name: name,
    Labels: { [WARM_LABEL]: recipe, [WARM_ID_LABEL]: id, [WARM_VOLUME_LABEL]: key },
  });
  return name;
}

/** A stack's own volume made ahead of its deploy (seeded), labelled as the deploy would. */
export async function createStackVolume(host: Host, stack: string, name: string): Promise<void> {
  await host.docker.createVolume({ Name: name, Labels: { [NAMESPACE_LABEL]: stack, [STACK_LABEL]: stack } });
}

export interface VolumeCopy {
  from: string;
  to: string;
}

/** Digest and size of a volume's files, as copyVolumes reports them. */
export interface VolumeFacts {
  digest: string;
  kib: number;
}

/**
 * Copies each `from` volume into its `to` volume (`cp -a`, owners and modes kept) in one short-lived
 * container of the probe image, and returns each target's digest and size. The sources are mounted
 * read-only: a copy can never change what it copies.
 */
export async function copyVolumes(host: Host, copies: VolumeCopy[], image?: string): Promise<VolumeFacts[]> {
  await mustExist(
    host,
    copies.map((c) => c.from),
  );
  const mounts = copies.flatMap((c, i) => [
    { Type: "volume" as const, Source: c.from, Target: `/from/${i}`, ReadOnly: true },
    { Type: "volume" as const, Source: c.to, Target: `/to/${i}` },
  ]);
  const script = copies.map((_, i) => `cp -a /from/${i}/. /to/${i}/ && ${facts(`/to/${i}`)}`).join(" && ");
  return parseFacts(await runProbe(host, script, mounts, image), copies.length);
}

/** Each volume's digest and size (read-only), e.g. to prove a known-good was left untouched. */
export async function volumeFacts(host: Host, volumes: string[], image?: string): Promise<VolumeFacts[]> {
  await mustExist(host, volumes);
  const mounts = volumes.map((v, i) => ({
    Type: "volume" as const,
    Source: v,
    Target: `/v/${i}`,
    ReadOnly: true,
  }));
  const script = volumes.map((_, i) => facts(`/v/${i}`)).join(" && ");
  return parseFacts(await runProbe(host, script, mounts, image), volumes.length);
}

// Names and contents of every file, in a fixed order; then the size in KiB. One line per volume.
const facts = (dir: string) =>
  `(cd ${dir} && d=$(find . -type f -exec sha256sum {} + | LC_ALL=C sort | sha256sum | cut -d' ' -f1) && echo "FACTS $d $(du -sk . | cut -f1)")`;

function parseFacts(output: string, count: number): VolumeFacts[] {
  const lines = output.split("\n").filter((l) => l.startsWith("FACTS "));
  if (lines.length !== count) throw infraError(`volume copy did not finish: ${output.slice(-500)}`);
  return lines.map((line) => {
    const [, digest = "", kib = "0"] = line.split(" ");
    return { digest, kib: Number(kib) };
  });
}

type Mount = { Type: "volume"; Source: string; Target: string; ReadOnly?: boolean };

async function runProbe(host: Host, script: string, mounts: Mount[], image?: string): Promise<string> {
  const container = await host.docker.createContainer({
    Image: image ?? DEFAULT_PROBE_IMAGE,
    Cmd: ["sh", "-c", script],
    Labels: { "taster.role": "warm-copy" },
    HostConfig: { Mounts: mounts, NetworkMode: "none" },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const output = await containerLog(container);
    if (StatusCode !== 0) throw infraError(`volume copy exited ${StatusCode}: ${output.slice(-500)}`);
    return output;
  } finally {
    await container.remove({ force: true }).catch(tolerated("removing the copy container", () => {}));
  }
}

async function containerLog(container: import("dockerode").Container): Promise<string> {
  const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  let text = "";
  const frames = new FrameReader((_kind, frame) => {
    text += frame.toString("utf8");
  });
  frames.push(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  return text;
}

async function ignoreMissing(operation: Promise<unknown>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
}

/**
 * Stops a stack's services (removes them: teardown follows) and waits until none of its containers
 * runs, so the volumes hold what the app last wrote and nothing writes to them any more.
 */
export async function stopStackServices(host: Host, stack: string, timeoutMs = 120_000): Promise<void> {
  const services = await host.docker.listServices({ filters: { label: [`${NAMESPACE_LABEL}=${stack}`] } });
  for (const service of services) await ignoreMissing(host.docker.getService(service.ID).remove());
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = await host.docker.listContainers({ filters: { label: [`${NAMESPACE_LABEL}=${stack}`] } });
    if (running.length === 0) return;
    if (Date.now() > deadline)
      throw infraError(`${running.length} container(s) of ${stack} still running after ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Mounting a volume that is not there would create it empty: a missing one must be an error, not empty data. */
async function mustExist(host: Host, volumes: string[]): Promise<void> {
  const gone = await missingVolumes(host, volumes);
  if (gone.length > 0) throw infraError(`volume(s) not on the host: ${gone.join(", ")}`);
}

/** Which of these volumes are not on the host (a known-good whose data went missing). */
export async function missingVolumes(host: Host, names: string[]): Promise<string[]> {
  const { Volumes } = await host.docker.listVolumes();
  const present = new Set((Volumes ?? []).map((v) => v.Name));
  return names.filter((name) => !present.has(name));
}
