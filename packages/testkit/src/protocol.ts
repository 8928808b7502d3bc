/**
 * The wire contract between @taster/testkit (inside the sandbox) and the harness's per-run broker.
 * Plain JSON over HTTP on a unix socket (the sandbox has no network): POST /v1/<op> with
 * `Authorization: Bearer <token>`.
 * No dependencies here: the sandboxed jest process loads this file.
 */

/** What a test knows about the run it belongs to. */
export interface RunContext {
  recipe: string;
  stack: string;
  domain: string;
  sha: string;
  /** The release deployed first (null when there was no upgrade base). */
  baseVersion: string | null;
  headVersion: string;
  /** The chaos-version label the head deploy must carry. */
  chaosVersion: string;
  tier: string;
  appService: string;
  /** The `coop-cloud.<stack>.version` label the tested compose files declare (null: none). */
  versionLabel?: string | null;
  services: string[];
  settings: {
    healthPath: string;
    healthService: string;
    healthPort: number;
    /** The Host header of the serving request (the traefik router rule's host), if any. */
    healthHost?: string;
    acceptableStatuses: number[];
    httpTimeoutMs: number;
  };
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ServiceStatus {
  name: string;
  fullName: string;
  image: string;
  desired: number;
  running: number;
  /** Per running task: "healthy" | "unhealthy" | "starting" | "none" (no healthcheck). */
  health: string[];
  hasHealthcheck: boolean;
  /** Swarm's UpdateStatus.State, e.g. "completed", "rollback_completed"; undefined if never updated. */
  updateState?: string;
}

export interface BackupArtifact {
  size: number;
  sha256: string;
  entries: { service: string; paths: string[] }[];
}

export interface Ops {
  exec: { req: { service: string; argv: string[]; timeoutMs?: number }; res: ExecResult };
  http: {
    req: { path: string; service?: string; port?: number; timeoutMs?: number; hostHeader?: string };
    res: HttpResult;
  };
  services: { req: Record<string, never>; res: ServiceStatus[] };
  labels: { req: { service?: string }; res: Record<string, string> };
  backupArtifact: { req: Record<string, never>; res: BackupArtifact | null };
  stateGet: { req: { key: string }; res: { value: unknown } };
  stateSet: { req: { key: string; value: unknown }; res: { ok: true } };
}
export type OpName = keyof Ops;

/** The path of the broker's unix socket. */
export const ENV_BROKER_SOCKET = "TASTER_BROKER_SOCKET";
export const ENV_BROKER_TOKEN = "TASTER_BROKER_TOKEN";
export const ENV_CONTEXT = "TASTER_CONTEXT";
