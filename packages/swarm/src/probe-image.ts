import { errorMessage, infraError } from "@taster/core";
import type { Host } from "./host";

/**
 * The probe image a test host uses when its admin names none: small, public, and it has what the
 * probes run (`wget`, `timeout`, `sh`, and `httpd` for the VIP check). A host that cannot pull
 * (like the lab) names a local image instead, e.g. `TASTER_PROBE_IMAGES=lab=taster-lab/probe:latest`.
 */
export const PUBLIC_PROBE_IMAGE = "busybox:1.36";

/** Whether the engine has the image locally (the probes create containers, which never pull). */
export async function hasImage(host: Host, image: string): Promise<boolean> {
  try {
    await host.docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

/** Pulls the image onto the host; an infrastructure error naming the image if the registry says no. */
export async function pullImage(host: Host, image: string): Promise<void> {
  try {
    const stream = (await host.docker.pull(image)) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      host.docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  } catch (error) {
    throw infraError(`could not pull the probe image ${image} onto ${host.url}: ${errorMessage(error)}`);
  }
}

/** What an admin does when a host lacks its probe image. */
export function probeImageFix(image: string, hostName: string): string {
  return `run \`docker pull ${image}\` on the host (or load it there with \`docker load\`), or set TASTER_PROBE_IMAGES=${hostName}=<an image the host has, with sh, wget, timeout and httpd>`;
}
