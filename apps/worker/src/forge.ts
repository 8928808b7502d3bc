import {
  type ForgeKind,
  GiteaForge,
  type GiteaForgeOptions,
  GithubForge,
  type GithubForgeOptions,
} from "@taster/forge";
import type { ReportPort } from "@taster/queue";
import type { WorkerConfig } from "./config";

export type ReporterOptions = Pick<
  GithubForgeOptions,
  "token" | "app" | "report" | "baseUrl" | "botLogin" | "writeMinTimeMs" | "notificationsMinTimeMs" | "log"
>;

/**
 * GitHub as the worker reports to it: the same adapter the bridge uses (one sticky-comment
 * implementation), with Octokit's own retries off because the report outbox retries durably,
 * with backoff that outlives a restart.
 */
export function githubReporter(options: ReporterOptions): GithubForge {
  return new GithubForge({ ...options, retries: 0 });
}

/** Gitea/Forgejo as the worker reports to it; retries off for the same reason. */
export function giteaReporter(options: Pick<GiteaForgeOptions, "url" | "token" | "botLogin">): GiteaForge {
  return new GiteaForge({ ...options, retries: 0 });
}

/** One reporter per forge the configuration has credentials for; a run reports to its own forge only. */
export function reportersFor(
  config: Pick<WorkerConfig, "github" | "gitea" | "botLogin">,
): Partial<Record<ForgeKind, ReportPort>> {
  const bot = config.botLogin ? { botLogin: config.botLogin } : {};
  return {
    ...(config.github
      ? {
          github: githubReporter({
            ...(config.github.app ? { app: config.github.app } : { token: config.github.token ?? "" }),
            report: config.github.report,
            baseUrl: config.github.apiUrl,
            ...bot,
          }),
        }
      : {}),
    ...(config.gitea
      ? { gitea: giteaReporter({ url: config.gitea.url, token: config.gitea.token, ...bot }) }
      : {}),
  };
}
