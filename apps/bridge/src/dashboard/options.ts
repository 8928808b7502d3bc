import type { Redactor } from "@taster/core";
import type { RunLog, RunQueues, RunStore, SweepStore } from "@taster/queue";

export interface DashboardOptions {
  runs: RunStore;
  logs: RunLog;
  queues: RunQueues;
  /** Swarm hosts whose queues the front page shows (the bridge's config.hosts fits). */
  hosts: readonly { name: string; capacity: number }[];
  /** Where people reach Taster; used for copy-paste snippets such as the badge markdown. */
  publicUrl: string;
  /** Defence in depth: scrubs the bridge's own secrets from every page, log and badge it serves. */
  redactor?: Redactor;
  /**
   * How long a live run's one reader waits for a new line (a blocking XREAD) before it checks
   * whether the run ended; the end reaches browsers within about this. Default 500 ms.
   */
  livePollMs?: number;
  /**
   * Bounds on live-log streams: at once in all (default 1000) and per client address (default 20;
   * the address is Express's `req.ip`, so behind a proxy set `trust proxy`), and how long one stream
   * stays open before the browser is made to reconnect and resume (default 10 min).
   */
  liveLog?: { maxClients?: number; maxPerAddress?: number; maxStreamMs?: number };
  /** How many recent runs recipe pages and badges look through. Default 500. */
  historyScan?: number;
  /**
   * Ends every open live log when aborted. Live logs stay open for as long as a run goes, so a server
   * that waits for its connections to close on shutdown needs this; browsers reconnect elsewhere and
   * resume from the last line they got.
   */
  signal?: AbortSignal;
  /** The sweeps' summaries (the recipes page; the badge shows a swept recipe's sweep level). */
  sweeps?: SweepStore;
  /** Recent runs on the front page. Default 50. */
  recentRuns?: number;
}
