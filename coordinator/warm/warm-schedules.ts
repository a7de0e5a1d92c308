import { Queue } from 'bullmq';
import { checkPrefix, redisOptions, type RedisTarget } from '../queue/redis-connection.js';
import type { WarmEntry } from './warm-file.js';

/** The BullMQ queue the warm-up schedulers fire into (beside the build queue, same prefix). */
export const WARM_QUEUE_NAME = 'warm';
export const WARM_JOB_NAME = 'warm';

/** What a warm-up scheduler's jobs carry: the whole entry, so any coordinator can run it. */
export interface WarmJobData {
  entry: WarmEntry;
}

/** A registered scheduler, as `getJobSchedulers` reports it. */
export interface WarmSchedule {
  entry: string;
  pattern: string;
  /** The next firing (ms since the epoch). */
  next?: number;
}

/**
 * The warm-up file's entries as BullMQ job schedulers, one per entry, with the entry's name as the
 * scheduler's id: upserting from several coordinators (sharing Redis) updates one scheduler, never
 * adds a second, and BullMQ makes one job per firing.
 */
export class WarmSchedules {
  private readonly queue: Queue<WarmJobData>;

  constructor(target: RedisTarget & { queueName?: string }) {
    this.queue = new Queue(target.queueName ?? WARM_QUEUE_NAME, { connection: redisOptions(target.redisUrl), prefix: checkPrefix(target.prefix) });
  }

  /** Registers every entry's scheduler and removes the schedulers of entries that are not in `entries`. */
  async sync(entries: WarmEntry[]): Promise<{ removed: string[] }> {
    for (const entry of entries) {
      await this.queue.upsertJobScheduler(
        entry.name,
        { pattern: entry.schedule },
        {
          name: WARM_JOB_NAME,
          data: { entry },
          // A failed warm run is not retried: the next firing is the retry.
          opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
        },
      );
    }
    const wanted = new Set(entries.map((e) => e.name));
    const removed: string[] = [];
    for (const s of await this.list()) {
      if (wanted.has(s.entry)) continue;
      await this.queue.removeJobScheduler(s.entry);
      removed.push(s.entry);
    }
    return { removed };
  }

  async list(): Promise<WarmSchedule[]> {
    const all = await this.queue.getJobSchedulers(0, -1, true);
    return all.map((s) => ({ entry: s.id ?? s.key, pattern: s.pattern ?? `every ${s.every}ms`, ...(s.next !== undefined ? { next: s.next } : {}) }));
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
