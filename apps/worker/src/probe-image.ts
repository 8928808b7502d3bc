import { parseMap } from "@taster/config";
import { usageError } from "@taster/core";
import { PUBLIC_PROBE_IMAGE } from "@taster/swarm";

/**
 * TASTER_PROBE_IMAGES: the probe image of each test host, `name=image,…` (names from
 * TASTER_HOSTS). A host not listed uses PUBLIC_PROBE_IMAGE, which it must be able to pull.
 */
export function parseProbeImages(spec: string | undefined): Record<string, string> {
  try {
    return parseMap(spec, "host=image");
  } catch (error) {
    throw usageError(
      `TASTER_PROBE_IMAGES ${error instanceof Error ? error.message : String(error)}`,
      "e.g. TASTER_PROBE_IMAGES=lab=taster-lab/probe:latest,big=busybox:1.36",
    );
  }
}

/** The probe image of one host: its TASTER_PROBE_IMAGES entry, else the public default. */
export function probeImageFor(hostName: string, env: NodeJS.ProcessEnv = process.env): string {
  return parseProbeImages(env.TASTER_PROBE_IMAGES)[hostName] ?? PUBLIC_PROBE_IMAGE;
}

/** The same, from the configuration's hosts section (already checked by readConfig). */
export const probeImageOf = (hostName: string, probeImages: Record<string, string>): string =>
  probeImages[hostName] ?? PUBLIC_PROBE_IMAGE;
