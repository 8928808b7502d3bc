import { expect } from "@jest/globals";
import { app } from "@taster/testkit";

/**
 * Checks shared by the generic tiers. Each failure message names the service or status, so the
 * PR comment says what is wrong without opening the log.
 */
export async function expectAllServicesRunning(): Promise<void> {
  const services = await app.services();
  expect(services.map((s) => s.name).sort()).toEqual([...app.context.services].sort());
  const notRunning = services
    .filter((s) => s.desired === 0 || s.running < s.desired)
    .map((s) => `${s.name}: ${s.running}/${s.desired} tasks running`);
  expect(notRunning).toEqual([]);
}

export async function expectHealthchecksHealthy(): Promise<void> {
  const services = await app.services();
  const unhealthy = services
    .filter((s) => s.hasHealthcheck && (s.health.length === 0 || s.health.some((h) => h !== "healthy")))
    .map((s) => `${s.name}: ${s.health.join(", ") || "no running task"}`);
  expect(unhealthy).toEqual([]);
}

/** The app answers from inside the stack network (a probe container), as the proxy would reach it. */
export async function expectServing(): Promise<void> {
  const { healthPath, healthService, healthPort, acceptableStatuses } = app.context.settings;
  const response = await app.http(healthPath);
  const seen = `GET http://${healthService}:${healthPort}${healthPath} → ${response.status}`;
  expect({ request: seen, acceptable: acceptableStatuses.includes(response.status) }).toEqual({
    request: seen,
    acceptable: true,
  });
}

export async function expectNoRollback(): Promise<void> {
  const services = await app.services();
  const rolledBack = services
    .filter((s) => s.updateState && /rollback|paused/.test(s.updateState))
    .map((s) => `${s.name}: update ${s.updateState}`);
  expect(rolledBack).toEqual([]);
}

/** Key of the backup marker the harness seeds before backup and changes after it (see run.ts). */
export const MARKER_KEY = "taster.backupMarker";
/** What the restore op put back and compared file by file with the artifact (see run.ts). */
export const RESTORE_CHECK_KEY = "taster.restoreCheck";
export interface RestoreCheck {
  files: number;
  /** `<volume>/<path>` of each path put back. */
  paths: string[];
  /** Each backed-up path's content checksum at backup, after Taster changed it, after the restore. */
  checksums: { path: string; files: number; backedUp: string; changed: string; restored: string }[];
}
export interface BackupMarker {
  service: string;
  path: string;
  value: string;
}
