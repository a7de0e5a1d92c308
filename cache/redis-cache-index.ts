import type { Redis } from 'ioredis';
import type { Digest } from '../oci/digest.js';
import { parseRecord, type CacheIndex, type CacheRecord, type IndexEntry } from './cache-index.js';
import { RedisKeyspace, type RedisStoreOptions } from './redis-keyspace.js';

/**
 * The index in Redis, for a farm: each record is a JSON string `{prefix}:record:<hex>`, and the sorted
 * set `{prefix}:records` scores every key by its last use (ms). Both change in one transaction.
 */
export class RedisCacheIndex implements CacheIndex {
  private readonly keys: RedisKeyspace;
  private readonly used: string;

  constructor(
    private readonly redis: Redis,
    opts: RedisStoreOptions = {},
  ) {
    this.keys = new RedisKeyspace(opts.prefix);
    this.used = this.keys.key('records');
  }

  private recordKey(key: Digest): string {
    return this.keys.key('record', key.slice(7));
  }

  async get(key: Digest): Promise<CacheRecord | undefined> {
    const text = await this.redis.get(this.recordKey(key));
    return text === null ? undefined : parseRecord(text, key);
  }

  async put(record: CacheRecord): Promise<void> {
    await this.redis.multi().set(this.recordKey(record.key), JSON.stringify(record)).zadd(this.used, Date.now(), record.key.slice(7)).exec();
  }

  async touch(key: Digest): Promise<void> {
    // XX: only a record that is there gets a new time; touching never creates one.
    await this.redis.zadd(this.used, 'XX', Date.now(), key.slice(7));
  }

  async remove(key: Digest): Promise<void> {
    await this.redis.multi().del(this.recordKey(key)).zrem(this.used, key.slice(7)).exec();
  }

  /** ZSCAN returns every member present for the whole scan (maybe twice): duplicates are dropped. */
  async *list(): AsyncIterable<IndexEntry> {
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.zscan(this.used, cursor, 'COUNT', 500);
      cursor = next;
      const batch: { hex: string; lastUsed: Date }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const hex = flat[i]!;
        if (seen.has(hex)) continue;
        seen.add(hex);
        batch.push({ hex, lastUsed: new Date(Number(flat[i + 1])) });
      }
      if (batch.length === 0) continue;
      const texts = await this.redis.mget(batch.map((b) => this.keys.key('record', b.hex)));
      for (const [i, b] of batch.entries()) {
        const text = texts[i];
        const record = text ? parseRecord(text, `sha256:${b.hex}`) : undefined;
        if (record) yield { record, lastUsed: b.lastUsed };
      }
    } while (cursor !== '0');
  }
}
