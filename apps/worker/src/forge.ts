import { GithubForge, type GithubForgeOptions } from "@taster/forge";

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
