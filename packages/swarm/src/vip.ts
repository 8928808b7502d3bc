import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { infraError, tolerated } from "@taster/core";
import type { Host } from "./host";
import { debugLine } from "./log";
import { DEFAULT_PROBE_IMAGE } from "./probe";

/**
 * Whether swarm's virtual IPs answer on a host. They need IPVS in the kernel; without it a
 * service name resolves to a VIP that answers "No route to host", while `tasks.<service>` (DNS
 * round robin) works. Recipes reach each other by service name (`db`), so on such a host Taster
 * deploys every service with `endpoint_mode: dnsrr` — in its own overlay, never by editing the
 * recipe — and the run's manifest says so.
 */
export type EndpointMode = "vip" | "dnsrr";

export interface VipCheck {
  working: boolean;
  /** What was seen, for the manifest and `taster doctor`. */
  detail: string;
  /** When it was measured (ISO 8601). */
  checkedAt: string;
}

/** The node label that records the last check on the host itself, shared by every Taster using it. */
export const VIP_LABEL = "taster.vips";

const ROLE_LABEL = "taster.role";
const ANSWER_SECONDS = 3;

/** The endpoint mode deploys on this host need: from the node label, probing once if it has none. */
export async function endpointModeFor(host: Host, image = DEFAULT_PROBE_IMAGE): Promise<EndpointMode> {
  const recorded = await recordedVipCheck(host);
  const check = recorded ?? (await checkVips(host, { image, record: true }));
  return check.working ? "vip" : "dnsrr";
}

/** The check recorded on the manager node, if any. */
export async function recordedVipCheck(host: Host): Promise<VipCheck | undefined> {
  const node = await managerNode(host);
  const value = node.Spec?.Labels?.[VIP_LABEL];
  if (!value) return undefined;
  const [state, checkedAt = ""] = value.split("@");
  return { working: state === "working", detail: `recorded on the node (${VIP_LABEL}=${value})`, checkedAt };
}

/**
 * Measures it: a throwaway service on a throwaway overlay network, asked once by its name (the
 * VIP) and once by `tasks.<name>`. With `record`, the result is written to the manager node's
 * labels. Everything made is removed, whatever happens.
 */
export async function checkVips(
  host: Host,
  opts: { image?: string; record?: boolean } = {},
): Promise<VipCheck> {
  const image = opts.image ?? DEFAULT_PROBE_IMAGE;
  const name = `taster-vipcheck-${randomBytes(3).toString("hex")}`;
  const labels = { [ROLE_LABEL]: "vip-check" };
  const network = await host.docker.createNetwork({
    Name: name,
    Driver: "overlay",
    Attachable: true,
    Labels: labels,
  });
  let serviceId: string | undefined;
  try {
    const service = await host.docker.createService({
      Name: name,
      Labels: labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: image,
          Command: [
            "sh",
            "-c",
            "mkdir -p /tmp/w && echo ok >/tmp/w/index.html && exec httpd -f -p 80 -h /tmp/w",
          ],
        },
        Networks: [{ Target: network.id }],
      },
      EndpointSpec: { Mode: "vip" },
    });
    serviceId = service.id;
    await untilRunning(host, name);
    const answers = await askByName(host, image, name, labels);
    if (!answers.dnsrr) {
      throw infraError(
        `the VIP check service ${name} did not answer even through tasks.${name}: ${answers.output}`,
      );
    }
    const check: VipCheck = {
      working: answers.vip,
      detail: answers.vip
        ? "a service answered through its virtual IP"
        : "a service answered through tasks.<name> but not through its virtual IP (no IPVS on the host?)",
      checkedAt: new Date().toISOString(),
    };
    if (opts.record) await recordVipCheck(host, check);
    return check;
  } finally {
    if (serviceId)
      await host.docker
        .getService(serviceId)
        .remove()
        .catch(tolerated("removing the VIP check service", debugLine));
    await removeNetwork(host, network.id);
  }
}

async function untilRunning(host: Host, service: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const tasks = (await host.docker.listTasks({ filters: { service: [service] } })) as {
      Status?: { State?: string; Err?: string };
    }[];
    if (tasks.some((task) => task.Status?.State === "running")) return;
    const failed = tasks.find((task) => ["failed", "rejected"].includes(task.Status?.State ?? ""));
    if (failed) throw infraError(`the VIP check service could not start: ${failed.Status?.Err ?? "failed"}`);
    await sleep(250);
  }
  throw infraError("the VIP check service did not start within 30 s");
}

/** One short-lived container on the network asks by name, then by tasks.<name>. */
async function askByName(
  host: Host,
  image: string,
  name: string,
  labels: Record<string, string>,
): Promise<{ vip: boolean; dnsrr: boolean; output: string }> {
  // No `wget -T`: busybox-static's wget crashes with it; `timeout` bounds each try instead.
  const ask = (url: string, tag: string) =>
    `if timeout ${ANSWER_SECONDS} wget -q -O /dev/null ${url}; then echo ${tag}=yes; else echo ${tag}=no; fi`;
  const container = await host.docker.createContainer({
    Image: image,
    Cmd: ["sh", "-c", `${ask(`http://${name}/`, "vip")}; ${ask(`http://tasks.${name}/`, "dnsrr")}`],
    Labels: labels,
    HostConfig: { NetworkMode: name },
  });
  try {
    await container.start();
    await container.wait();
    const logs = (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    // Docker's multiplexed frames carry 8-byte headers; the answers are plain ASCII lines.
    const output = logs.toString("latin1").replace(/[^\x20-\x7e\n]/g, "");
    return { vip: /vip=yes/.test(output), dnsrr: /dnsrr=yes/.test(output), output: output.trim() };
  } finally {
    await container.remove({ force: true }).catch(tolerated("removing the VIP check container", debugLine));
  }
}

// A network is removable only once the service's tasks are gone, and swarm forgets it a moment
// after that: wait until it is really gone, so the check leaves nothing behind.
async function removeNetwork(host: Host, id: string): Promise<void> {
  const network = host.docker.getNetwork(id);
  for (let i = 0; i < 120; i++) {
    try {
      await network.remove();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return;
    }
    const gone = await network.inspect().then(
      () => false,
      (error: { statusCode?: number }) => error.statusCode === 404,
    );
    if (gone) return;
    await sleep(250);
  }
  throw infraError(`the VIP check network ${id} could not be removed within 30 s`);
}

interface NodeInfo {
  ID: string;
  Version?: { Index?: number };
  Spec?: { Labels?: Record<string, string>; Role?: string; Availability?: string };
}

async function managerNode(host: Host): Promise<NodeInfo> {
  const info = (await host.docker.info()) as { Swarm?: { NodeID?: string } };
  const id = info.Swarm?.NodeID;
  if (!id) throw infraError(`${host.url} is not part of a swarm`);
  return (await host.docker.getNode(id).inspect()) as NodeInfo;
}

async function recordVipCheck(host: Host, check: VipCheck): Promise<void> {
  const node = await managerNode(host);
  const spec = node.Spec ?? {};
  const value = `${check.working ? "working" : "broken"}@${check.checkedAt}`;
  await host.docker.getNode(node.ID).update({
    version: node.Version?.Index,
    ...spec,
    Labels: { ...(spec.Labels ?? {}), [VIP_LABEL]: value },
  });
}
