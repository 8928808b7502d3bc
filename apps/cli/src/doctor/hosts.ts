import { createLogger, errorMessage, tolerated } from "@taster/core";

const doctorLog = createLogger("doctor");

import { checkVips, connectHost, type Host, hasImage, PROXY_NETWORK, probeImageFix } from "@taster/swarm";
import type { Finding } from "./finding";

/** A test host as the doctor checks it: its name, Docker URL and probe image. */
export interface HostTarget {
  name: string;
  url: string;
  probeImage: string;
  /** The fix to say for a missing part when the host is the local lab. */
  labFix?: string;
}

const skipped = (check: string, why: string): Finding => ({ check, ok: false, skipped: true, detail: why });

/** Measured afresh (and recorded on the node): either answer is fine, Taster adapts its deploys. */
async function vipFinding(host: Host, t: HostTarget): Promise<Finding> {
  const check = `${t.name} vips`;
  try {
    const vips = await checkVips(host, { image: t.probeImage, record: true });
    return {
      check,
      ok: true,
      detail: vips.working
        ? "swarm VIPs answer"
        : "swarm VIPs do not answer (no IPVS?): dnsrr needed; deploys here use endpoint_mode dnsrr (node label taster.vips)",
    };
  } catch (error) {
    return {
      check,
      ok: false,
      detail: `could not measure whether swarm VIPs answer: ${errorMessage(error)}`,
      fix: "make sure overlay networks can be created and services started on the host (`docker service create`)",
    };
  }
}

async function proxyFinding(host: Host, t: HostTarget): Promise<Finding> {
  const networks = await host.docker.listNetworks({ filters: { name: [PROXY_NETWORK] } });
  const proxy = networks.find((n) => n.Name === PROXY_NETWORK) as
    | { Driver?: string; Attachable?: boolean }
    | undefined;
  const create = "`docker network create --driver overlay --attachable proxy`";
  const check = `${t.name} proxy`;
  if (!proxy) {
    return { check, ok: false, detail: "no network named 'proxy'", fix: t.labFix ?? `run ${create}` };
  }
  const ok = proxy.Driver === "overlay" && proxy.Attachable === true;
  return {
    check,
    ok,
    detail: `network 'proxy' (${proxy.Driver}${proxy.Attachable ? ", attachable" : ", not attachable"})`,
    fix:
      t.labFix ??
      `the probes attach containers to it: remove it once nothing uses it (\`docker network rm proxy\`) and run ${create}`,
  };
}

/** Engine, swarm manager, probe image, proxy network, VIPs: each with its fix. */
export async function checkHost(t: HostTarget): Promise<Finding[]> {
  let host: Host | undefined;
  try {
    host = await connectHost(t.url);
    const info = await host.docker.info();
    const findings: Finding[] = [
      { check: `${t.name} engine`, ok: true, detail: `${t.url} answers (Docker ${info.ServerVersion})` },
    ];
    const swarm = info.Swarm ?? {};
    const manager = swarm.LocalNodeState === "active" && swarm.ControlAvailable === true;
    findings.push({
      check: `${t.name} swarm`,
      ok: manager,
      detail: manager
        ? "this engine is a swarm manager"
        : `not a swarm manager (swarm state: ${swarm.LocalNodeState ?? "unknown"})`,
      fix: t.labFix ?? "run `docker swarm init` on the host, or list a manager's URL in TASTER_HOSTS",
    });
    const image = await hasImage(host, t.probeImage);
    findings.push({
      check: `${t.name} probe`,
      ok: image,
      detail: image
        ? `probe image ${t.probeImage} is on the host`
        : `probe image ${t.probeImage} is not on the host`,
      fix: t.labFix ?? probeImageFix(t.probeImage, t.name),
    });
    findings.push(await proxyFinding(host, t));
    if (!manager) findings.push(skipped(`${t.name} vips`, "not measured: not a swarm manager"));
    else if (!image) findings.push(skipped(`${t.name} vips`, "not measured: the probe image is missing"));
    else findings.push(await vipFinding(host, t));
    return findings;
  } catch (error) {
    return [
      {
        check: `${t.name} engine`,
        ok: false,
        detail: `no Docker engine at ${t.url}: ${errorMessage(error)}`,
        fix:
          t.labFix ??
          "start the Docker engine there, or fix the URL in TASTER_HOSTS (unix://, tcp:// or ssh://user@host; ssh needs the key in ~/.ssh and the host in known_hosts)",
      },
      skipped(`${t.name} *`, "swarm, probe image, proxy and VIPs not checked: engine unreachable"),
    ];
  } finally {
    await host?.close().catch(tolerated("closing the host connection", (line) => doctorLog.debug(line)));
  }
}
