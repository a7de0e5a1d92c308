/**
 * Where the farm's cache keeps its keys in Redis: every key starts with the prefix in braces (a hash
 * tag), so on a Redis Cluster they all live in one slot and transactions and scripts over several of
 * them work. A prefix that already has a `{...}` tag is used as given.
 */
export class RedisKeyspace {
  readonly base: string;

  constructor(prefix = 'dockyard') {
    if (prefix === '' || /\s/.test(prefix)) throw new Error(`invalid Redis key prefix ${JSON.stringify(prefix)}`);
    this.base = /\{[^{}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
  }

  key(...parts: string[]): string {
    return [this.base, ...parts].join(':');
  }
}

export interface RedisStoreOptions {
  /** Key prefix (default `dockyard`), hash-tagged as `{prefix}`. */
  prefix?: string;
}
