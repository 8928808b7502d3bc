import { setTimeout as sleep } from "node:timers/promises";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";

/**
 * bench/trigger's baseline: milliseconds from a bare BullMQ `queue.add` to the processor being
 * called, on the same Redis, one job at a time (idle queue) — the floor under Taster's trigger path.
 */
export async function queuePickupBaseline(redisUrl: string, count: number): Promise<number[]> {
  const prefix = `bench-trigger-base-${process.pid}`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue("bench", { connection, prefix });
  const started = new Map<string, (t: number) => void>();
  const worker = new Worker(
    "bench",
    async (job) => {
      started.get(String(job.id))?.(performance.now());
    },
    { connection: connection.duplicate({ maxRetriesPerRequest: null }), prefix },
  );
  await worker.waitUntilReady();
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = `b${i}`;
    const seen = new Promise<number>((resolve) => started.set(id, resolve));
    const t0 = performance.now();
    await queue.add("j", {}, { jobId: id, removeOnComplete: true });
    samples.push((await seen) - t0);
    await sleep(20);
  }
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return samples;
}
