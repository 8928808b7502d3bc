import { type Tier, tolerated } from "@taster/core";
import type { AppEnvFile } from "@taster/recipe";
import { deployStack, ensureSecrets, type Plan, readyProbeContainer, type SecretSource } from "@taster/swarm";
import type { RunContext } from "@taster/testkit";
import { type LiveRun, swarmBackend } from "../backend";
import { type Broker, startBroker } from "../broker";
import { converge } from "../converge";
import { declaredVersion } from "../operator-upgrade";
import { servingSettings } from "../serving";
import { warmSecrets } from "../warm/seed";
import type { PreparedRun } from "./prepare";
import { signalOf } from "./session";

/** The app the install op deploys: its first plan and its `.env` (made once, as `abra app new`). */
export interface App {
  plan: Plan;
  appEnv: AppEnvFile;
}

/**
 * The one deployment the tiers share, and the broker through which hooks and assertions reach it.
 * Started explicitly once the install op is planned (its hook and assertions start before the
 * deploy), stopped at teardown.
 */
export class Live {
  /** What the broker's backend reads as the run goes: the current plan, the last backup. */
  readonly app: LiveRun;
  /** The app's .env: made at install, as the upgrade left it (release-note additions). */
  appEnv: AppEnvFile;
  /** The tier now running: the tests' context and the broker's log lines say which. */
  tier: Tier = "install";

  private constructor(
    private readonly run: PreparedRun,
    app: App,
    private broker_: Broker | null = null,
  ) {
    this.app = {
      host: run.host,
      plan: app.plan,
      backup: null,
      ...(run.probeImage ? { probeImage: run.probeImage } : {}),
    };
    this.appEnv = app.appEnv;
  }

  static async start(run: PreparedRun, app: App): Promise<Live> {
    const live = new Live(run, app);
    const broker = await startBroker(() => live.context(), swarmBackend(live.app), run.slot);
    broker.onCall = (op, detail) => run.log.detail(`broker ${op} ${detail}`, live.tier);
    live.broker_ = broker;
    run.held.live = live;
    return live;
  }

  get broker(): Broker {
    if (!this.broker_) throw new Error("the broker is not running");
    return this.broker_;
  }

  async stop(): Promise<void> {
    await this.broker_?.close().catch(tolerated("closing the broker", (line) => this.run.log.detail(line)));
    this.broker_ = null;
  }

  /**
   * What the tests see of the run; `target` is the plan once the tier's op is done (default: now),
   * `tier` the tier they test (default: the one running; a jest started ahead names its own).
   */
  context(target?: Plan, tier: Tier = this.tier): RunContext {
    const { run } = this;
    const plan = target ?? this.app.plan;
    return {
      recipe: run.recipe,
      stack: run.stack,
      domain: run.domain,
      sha: run.sha,
      baseVersion: run.base?.tag ?? null,
      headVersion: run.headVersion,
      chaosVersion: run.chaos,
      tier,
      appService: plan.appService,
      versionLabel: declaredVersion(plan),
      services: plan.services.map((s) => s.name),
      settings: {
        healthPath: run.settings.healthPath,
        ...servingSettings(plan, run.settings),
        acceptableStatuses: run.settings.acceptableStatuses,
        httpTimeoutMs: run.settings.httpTimeout,
      },
    };
  }

  /**
   * Secrets, `docker stack deploy` and convergence of the run's stack: the only way the tiers
   * deploy, so every deploy lands in the run's ledger and deployMs.
   */
  async deploy(plan: Plan, labels: Parameters<typeof deployStack>[2], only?: string[]): Promise<void> {
    const { run } = this;
    const created = await ensureSecrets(run.host, plan, run.redactor, {
      values: run.settings.secrets,
      ...(only ? { only } : {}),
      ...warmSecrets(run),
    });
    this.noteSecrets(created);
    const t0 = Date.now();
    await deployStack(run.host, plan, labels, { endpointMode: run.endpointMode, ledger: run.ledger });
    // The tier's probes will find it started (a container on the overlay takes a second to start).
    readyProbeContainer(run.host, plan, run.probeImage ?? undefined);
    await converge(run.host, plan, {
      ...(run.settings.deployTimeout ? { timeoutSeconds: run.settings.deployTimeout } : {}),
      ...signalOf(run),
      onProgress: (msg) => run.log.event("converge", msg, this.tier),
    });
    run.record.deployMs += Date.now() - t0;
  }

  /** Which secrets were made and how (never their values): the log and the manifest say so. */
  private noteSecrets(created: SecretSource[]): void {
    const { log, manifest } = this.run;
    if (created.length > 0)
      log.event("secrets", `created ${created.length} secret(s) (values never shown)`, this.tier);
    for (const secret of created) log.event("secrets", `${secret.name}: ${secret.source}`, this.tier);
    manifest.appEnv?.secrets.push(...created.map(({ name, source }) => ({ name, source })));
  }
}
