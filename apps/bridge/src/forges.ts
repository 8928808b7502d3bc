/**
 * The forge adapters the processing roles (all, intake) call: loaded on demand by app.ts, so the
 * http role, which only answers webhooks and queues them, never loads Octokit or the Gitea client.
 */
import type { Logger } from "@taster/core";
import { type Forge, type ForgeKind, GiteaForge, GithubForge, loadTriggerers } from "@taster/forge";
import type { BridgeConfig } from "./config";

export async function buildForges(
  config: BridgeConfig,
  log: Logger,
): Promise<Partial<Record<ForgeKind, Forge>>> {
  const trust = { ...config.trust, triggerers: await loadTriggerers(config.triggerersFile) };
  const forges: Partial<Record<ForgeKind, Forge>> = {};
  if (config.github) {
    forges.github = new GithubForge({
      ...(config.github.app ? { app: config.github.app } : { token: config.github.token }),
      report: config.github.report,
      baseUrl: config.github.apiUrl,
      botLogin: config.botLogin,
      trust,
      log: { warn: (message) => log.warn(message) },
    });
  }
  if (config.gitea) {
    forges.gitea = new GiteaForge({
      url: config.gitea.url,
      token: config.gitea.token,
      botLogin: config.botLogin,
      trust,
    });
  }
  return forges;
}
