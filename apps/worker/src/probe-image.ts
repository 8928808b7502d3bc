import { usageError } from "@taster/core";
import { PUBLIC_PROBE_IMAGE } from "@taster/swarm";

/**
 * TASTER_PROBE_IMAGES: the probe image of each test host, `name=image,…` (names from
 * TASTER_HOSTS). A host not listed uses PUBLIC_PROBE_IMAGE, which it must be able to pull.
 */
export function parseProbeImages(spec: string | undefined): Record<string, string> {
  const images: Record<string, string> = {};
  for (const entry of (spec ?? "").split(",").map((s) => s.trim())) {
    if (!entry) continue;
    const eq = entry.indexOf("=");
    const name = entry.slice(0, eq).trim();
    const image = entry.slice(eq + 1).trim();
    if (eq <= 0 || !image || /\s/.test(image)) {
      throw usageError(
        `TASTER_PROBE_IMAGES entry "${entry}" must be host=image`,
        "e.g. TASTER_PROBE_IMAGES=lab=taster-lab/probe:latest,big=busybox:1.36",
      );
    }
    images[name] = image;
  }
  return images;
}

/** The probe image of one host: its TASTER_PROBE_IMAGES entry, else the public default. */
export function probeImageFor(hostName: string, env: NodeJS.ProcessEnv = process.env): string {
  return parseProbeImages(env.TASTER_PROBE_IMAGES)[hostName] ?? PUBLIC_PROBE_IMAGE;
}
