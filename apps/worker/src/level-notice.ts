/**
 * Level-change notices: after a sweep, each recipe whose level differs from the previous sweep's
 * gets one JSON POST to TASTER_SWEEP_WEBHOOK_URL (a Matrix hookshot or chat bridge takes `text`).
 * At most one per recipe per sweep; a recipe new to the sweep has no previous level and no notice.
 */
import type { Sweep } from "@taster/contracts";

export interface LevelChange {
  recipe: string;
  repo: string;
  version: string | null;
  from: number;
  to: number;
  verdict: string;
  classification: string | null;
  sweptAt: string;
  text: string;
}

export function levelChanges(previous: Sweep | undefined, sweep: Sweep): LevelChange[] {
  const before = new Map((previous?.recipes ?? []).map((r) => [r.recipe, r.level]));
  const seen = new Set<string>();
  const changes: LevelChange[] = [];
  for (const row of sweep.recipes) {
    const from = before.get(row.recipe);
    if (from === undefined || from === row.level || seen.has(row.recipe)) continue;
    seen.add(row.recipe);
    const way = row.level > from ? "up" : "down";
    changes.push({
      recipe: row.recipe,
      repo: row.repo,
      version: row.version,
      from,
      to: row.level,
      verdict: row.verdict,
      classification: row.classification,
      sweptAt: sweep.finishedAt,
      text: `${row.recipe} ${row.version ?? ""}: level ${way} L${from} → L${row.level} (${row.verdict}${row.classification ? `, ${row.classification}` : ""})`,
    });
  }
  return changes;
}

/** Posts each change; a failed POST is reported to the caller's log, never retried into duplicates. */
export async function notifyLevelChanges(
  url: string,
  changes: LevelChange[],
  onError: (recipe: string, why: string) => void,
): Promise<number> {
  let sent = 0;
  for (const change of changes) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(change),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      sent += 1;
    } catch (error) {
      onError(change.recipe, error instanceof Error ? error.message : String(error));
    }
  }
  return sent;
}
