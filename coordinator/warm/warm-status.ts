import type { Redis } from 'ioredis';
import type { Coverage } from './step-tally.js';

/** The last warm run of an entry, as every coordinator's metrics show it. */
export interface WarmStatus extends Coverage {
  entry: string;
  /** When its last successful run ended (ms since the epoch). */
  warmedAt: number;
}

/**
 * Each entry's last warm run, in one Redis hash (`{prefix}:warm-status`, field = entry name): the run
 * may end on any coordinator, and any coordinator's Prometheus endpoint shows it.
 */
export class WarmStatusStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private get key(): string {
    return `${this.prefix}:warm-status`;
  }

  async record(status: WarmStatus): Promise<void> {
    await this.redis.hset(this.key, status.entry, JSON.stringify(status));
  }

  async list(): Promise<WarmStatus[]> {
    const all = await this.redis.hgetall(this.key);
    return Object.values(all).flatMap((v) => {
      try {
        return [JSON.parse(v) as WarmStatus];
      } catch {
        return [];
      }
    });
  }

  /** Forgets entries no longer in the warm-up file. */
  async keepOnly(entries: ReadonlySet<string>): Promise<void> {
    const gone = (await this.redis.hkeys(this.key)).filter((e) => !entries.has(e));
    if (gone.length > 0) await this.redis.hdel(this.key, ...gone);
  }
}
