import { call } from "./client";
import {
  type BackupArtifact,
  ENV_CONTEXT,
  type ExecResult,
  type HttpResult,
  type RunContext,
  type ServiceStatus,
} from "./protocol";

export { BrokerError } from "./client";
export * from "./protocol";

function readContext(): RunContext {
  const raw = process.env[ENV_CONTEXT];
  if (!raw) throw new Error("@taster/testkit: no run context (run these tests through `taster run`)");
  return JSON.parse(raw) as RunContext;
}

let context: RunContext | undefined;

/**
 * The live deployment under test, as overlay tests and ops hooks see it. Every call goes through
 * the run's broker, which only acts on this run's stack.
 */
export const app = {
  /** recipe, stack, domain, sha, base/head versions, tier, settings. */
  get context(): RunContext {
    context ??= readContext();
    return context;
  },

  /** Runs argv in a running container of the service; throws when the exec could not run. */
  exec(service: string, argv: string[], opts: { timeoutMs?: number } = {}): Promise<ExecResult> {
    return call("exec", { service, argv, ...opts });
  },

  /** HTTP GET from inside the stack network, the way the proxy reaches the app. */
  http(
    path: string,
    opts: { service?: string; port?: number; timeoutMs?: number } = {},
  ): Promise<HttpResult> {
    return call("http", { path, ...opts });
  },

  /** Every service of the stack with its tasks' state and health. */
  services(): Promise<ServiceStatus[]> {
    return call("services", {});
  },

  /** Deployed labels of a service (default: the app service). */
  labels(service?: string): Promise<Record<string, string>> {
    return call("labels", service ? { service } : {});
  },

  /** The backup tier's artifact (size, sha256, what it holds), null before a backup ran. */
  backupArtifact(): Promise<BackupArtifact | null> {
    return call("backupArtifact", {});
  },

  /** JSON shared between the hooks and assertions of one run. */
  state: {
    async get<T = unknown>(key: string): Promise<T | undefined> {
      const { value } = await call("stateGet", { key });
      return (value ?? undefined) as T | undefined;
    },
    async set(key: string, value: unknown): Promise<void> {
      await call("stateSet", { key, value });
    },
  },
};

export type App = typeof app;
