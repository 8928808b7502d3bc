import { createBridge, loadBridgeConfig, yieldCpuToWebhookAnswers } from "@taster/bridge";
import type { Command } from "commander";

/** `taster bridge`: the webhook bridge, configured from TASTER_* environment variables (see docs/bridge.md). */
export function registerBridge(program: Command): void {
  program
    .command("bridge")
    .description(
      "receive forge webhooks and turn !testme comments into queued runs (config: TASTER_* env, docs/bridge.md)",
    )
    .option("--port <port>", "listen on this port (overrides TASTER_PORT)")
    .option(
      "--role <role>",
      "all (default) | http (webhooks, dashboard; never calls the forge) | intake (processes commands, reconciler); overrides TASTER_BRIDGE_ROLE",
    )
    .option("--check", "validate the configuration, print a summary (no secrets) and exit")
    .action(async (options: { port?: string; role?: string; check?: boolean }) => {
      const config = loadBridgeConfig({
        ...process.env,
        ...(options.port ? { TASTER_PORT: options.port } : {}),
        ...(options.role ? { TASTER_BRIDGE_ROLE: options.role } : {}),
      });
      if (options.check) {
        const summary = {
          role: config.role,
          port: config.port,
          publicUrl: config.publicUrl,
          forges: [
            config.github
              ? `github (${config.github.apiUrl}, ${config.github.webhookSecrets.length} secret(s))`
              : undefined,
            config.gitea
              ? `gitea (${config.gitea.url}, ${config.gitea.webhookSecrets.length} secret(s))`
              : undefined,
          ].filter(Boolean),
          hosts: config.hosts.map((h) => `${h.name} (capacity ${h.capacity})`),
          recipeHosts: config.recipeHosts,
          enrolledRepos: config.enrolledRepos.map((r) => `${r.forge}:${r.repo}`),
          reconcileIntervalSec: config.reconcileIntervalSec,
        };
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      // A process that only processes commands lets a co-located http role answer first.
      if (config.role === "intake") yieldCpuToWebhookAnswers();
      const bridge = await createBridge(config);
      const url = await bridge.start();
      process.stderr.write(
        `taster bridge (${config.role}): listening on ${url} (public ${config.publicUrl})\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      process.stderr.write("taster bridge: stopping (finishing acknowledgements)\n");
      await bridge.stop();
    });
}
