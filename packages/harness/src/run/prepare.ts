import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { domainFor, stackNameFor, usageError } from "@taster/core";
import {
  chaosVersion,
  describeHead,
  fetchRecipe,
  isDirty,
  loadSettings,
  makeWorkspace,
  pullRef,
  resolveUpgradeBase,
  type Settings,
  versionOf,
} from "@taster/recipe";
import { type EndpointMode, endpointModeFor, type Host, RenderCache } from "@taster/swarm";
import type { Customization } from "../discovery";
import { hideFromSandbox } from "../pinned-copy";
import type { Manifest } from "../results";
import { acquireSlot, exposeToSandbox, type SandboxSlot, toolPaths } from "../sandbox";
import { seededSettings } from "../warm/seed";
import { resolveCustomization } from "./manifest";
import { connectRunHost, type RunOptions } from "./options";
import { type Session, throwIfCancelled } from "./session";

/** The release an upgrade starts from, fetched beside the head. */
export interface UpgradeBase {
  readonly tag: string;
  readonly sha: string;
  readonly dir: string;
}

/** Everything a run knows once the recipe is fetched and the host is ready: fixed from here on. */
export interface PreparedRun extends Session {
  readonly workspaceDir: string;
  readonly recipesTestsDir: string;
  readonly sha: string;
  readonly checkoutDir: string;
  readonly stack: string;
  readonly domain: string;
  readonly settings: Settings;
  readonly headVersion: string;
  /** abra's chaos-version of the head (short sha, `+U` when dirty). */
  readonly chaos: string;
  /** null: no upgrade tier to run (no earlier release, `upgradeBase: none`, or not requested). */
  readonly base: UpgradeBase | null;
  readonly baseReason: string;
  readonly customization: Customization;
  /** Taster's copy of the pinned tests/taster, when repo-local code may run (see pinned-copy.ts). */
  readonly pinnedDir: string | null;
  /** The run's manifest; the install and upgrade ops add what they learn (app env, serving). */
  readonly manifest: Manifest;
  readonly host: Host;
  /** The run's sandbox slot (its tests' own uid), leased until teardown. */
  readonly slot: SandboxSlot;
  /** `dnsrr` on a host whose swarm VIPs do not answer (see packages/swarm/src/vip.ts). */
  readonly endpointMode: EndpointMode;
  /** The recipe's `probeImage` setting, else the host's; null: swarm's default (the lab's). */
  readonly probeImage: string | null;
  /** The run's compose renderings: lint's plans are install's and (same app env) the upgrade's. */
  readonly renders: RenderCache;
}

export const workRootOf = (opts: RunOptions) => resolve(opts.workRoot ?? join(tmpdir(), "taster-runs"));

/** Workspace, fetch, names, settings, upgrade base, customization (the manifest), host and sandbox. */
export async function prepare(session: Session): Promise<PreparedRun> {
  const { opts, log, record, held } = session;
  if (opts.pr !== undefined && opts.ref) throw usageError("give --pr or --ref, not both");
  const ref = opts.pr !== undefined ? pullRef(opts.pr) : opts.ref;
  const recipesTestsDir = opts.recipesTestsDir ?? toolPaths.recipesTests;
  held.workspace = await makeWorkspace(workRootOf(opts), session.recipe);
  const workspaceDir = held.workspace.dir;
  log.event("fetch", `${opts.source} ${ref ?? "HEAD"}${opts.sha ? ` @ ${opts.sha}` : ""}`);
  const fetched = await fetchRecipe({
    url: opts.source,
    workspace: workspaceDir,
    ...(ref ? { ref } : {}),
    ...(opts.sha ? { sha: opts.sha } : {}),
  });
  const names = namesOf(opts, fetched.sha);
  Object.assign(record.names, { sha: fetched.sha, ...names });
  const settings = await seededSettings(session, await loadSettings(recipesTestsDir, session.recipe));
  const headVersion = versionOf(await describeHead(fetched.dir, fetched.sha));
  record.versions.head = headVersion;
  const chaos = chaosVersion(fetched.sha, await isDirty(fetched.dir));
  log.event("fetch", `${session.recipe} at ${fetched.sha} (version ${headVersion}), stack ${names.stack}`);
  const upgrade = await resolveBase(session, { ...fetched, workspaceDir, settings });
  const found = await resolveCustomization(session, {
    recipesTestsDir,
    checkoutDir: fetched.dir,
    pinnedRoot: join(workspaceDir, "pinned"),
    base: upgrade.base,
  });
  await session.openLogFile();
  throwIfCancelled(session);
  const unhosted: Unhosted = {
    ...session,
    ...names,
    ...upgrade,
    ...found,
    workspaceDir,
    recipesTestsDir,
    sha: fetched.sha,
    checkoutDir: fetched.dir,
    settings,
    headVersion,
    chaos,
    probeImage: settings.probeImage ?? opts.probeImage ?? null,
    renders: new RenderCache(),
  };
  return { ...unhosted, ...(await startHost(unhosted)) };
}

/** The stack and domain: the same identity (repo, PR, sha) always gives the same names. */
function namesOf(opts: RunOptions, sha: string): { stack: string; domain: string } {
  const identity = opts.repo ?? opts.source;
  const repo = opts.nameSalt ? `${identity}#${opts.nameSalt}` : identity;
  const key = { repo, pr: opts.pr ?? 0, sha };
  return { stack: stackNameFor(key), domain: domainFor(key) };
}

async function resolveBase(
  session: Session,
  head: { dir: string; sha: string; workspaceDir: string; settings: Settings },
): Promise<{ base: UpgradeBase | null; baseReason: string }> {
  const { log, record } = session;
  const resolved = await resolveUpgradeBase(head.dir, head.sha, head.settings.upgradeBase);
  record.versions.baseReason = resolved.reason;
  const wanted = session.stages.includes("upgrade") && !head.settings.na.upgrade;
  if (!resolved.base || !wanted) {
    log.event("upgrade-base", resolved.base ? `${resolved.base.tag} (upgrade not run)` : resolved.reason);
    return { base: null, baseReason: resolved.reason };
  }
  const fetched = await fetchRecipe({
    url: session.opts.source,
    ref: `refs/tags/${resolved.base.tag}`,
    sha: resolved.base.sha,
    workspace: join(head.workspaceDir, "base"),
  });
  record.versions.base = resolved.base.tag;
  log.event("upgrade-base", `${resolved.base.tag} — ${resolved.reason}`);
  return {
    base: { tag: resolved.base.tag, sha: fetched.sha, dir: fetched.dir },
    baseReason: resolved.reason,
  };
}

type Unhosted = Omit<PreparedRun, "host" | "slot" | "endpointMode">;

/** The Docker host, how it reaches services, and the sandbox slot the run's tests run as. */
async function startHost(
  run: Unhosted,
): Promise<{ host: Host; endpointMode: EndpointMode; slot: SandboxSlot }> {
  const { opts, held, log } = run;
  const host = await connectRunHost(opts);
  held.host = host;
  run.record.names.host = host.url;
  const endpointMode = await endpointModeFor(host, run.probeImage ?? undefined);
  if (endpointMode === "dnsrr") {
    log.event(
      "manifest",
      "this host's swarm VIPs do not answer: services are deployed with endpoint_mode dnsrr (Taster's overlay; the recipe is unchanged)",
    );
  }
  const sandboxRoot = join(run.workspaceDir, "sandbox");
  await mkdir(sandboxRoot, { recursive: true });
  const slot = await acquireSlot(run.workspaceDir, workRootOf(opts));
  held.slot = slot;
  await exposeToSandbox(sandboxRoot, slot);
  // Repo-local code sees its pinned copy, never the checkouts (files beside tests/taster).
  for (const dir of [run.checkoutDir, run.base?.dir]) if (dir) await hideFromSandbox(dir);
  if (run.pinnedDir) await exposeToSandbox(run.pinnedDir, slot);
  return { host, endpointMode, slot };
}
