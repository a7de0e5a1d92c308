import type { Redis } from 'ioredis';
import { checkExplainName, type ExplainStore } from './explain-store.js';
import { RedisKeyspace, type RedisStoreOptions } from './redis-keyspace.js';

/** Explanations as the fields of one Redis hash, `{prefix}:explain`. */
export class RedisExplainStore implements ExplainStore {
  private readonly hash: string;

  constructor(
    private readonly redis: Redis,
    opts: RedisStoreOptions = {},
  ) {
    this.hash = new RedisKeyspace(opts.prefix).key('explain');
  }

  async get(name: string): Promise<string | undefined> {
    return (await this.redis.hget(this.hash, checkExplainName(name))) ?? undefined;
  }

  async put(name: string, text: string): Promise<void> {
    await this.redis.hset(this.hash, checkExplainName(name), text);
  }

  async clear(): Promise<void> {
    await this.redis.del(this.hash);
  }
}
