import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { addLeaseLine, emptyLeasedSet, LeaseBase, type Lease, type LeasedSet, type LeaseManager } from './lease.js';
import { RedisKeyspace, type RedisStoreOptions } from './redis-keyspace.js';

export interface RedisLeaseOptions extends RedisStoreOptions {
  /** How long a lease or a collection marker outlives its holder's last heartbeat (default 30 s). */
  ttlMs?: number;
}

/** A lease's set holds this member from its creation: Redis keeps no empty set, and an absent key means a dead lease. */
const ALIVE = '-';

/**
 * Leases in Redis, for processes on many machines sharing one cache (the farm). Keys, all under the
 * hash-tagged prefix:
 * - `lease:<id>`: a set of `blob <digest>`, `snapshot <diffID>`, `record <key>` lines, with an expiry
 *   that a heartbeat of the holding process pushes back every third of the TTL. A holder that dies
 *   stops beating, and its lease expires by itself after the TTL: Redis removes the key.
 * - `leases`: the ids of leases; an id whose set is gone is dead, and collections drop it.
 * - `gc:<id>`: the marker of a running collection (expiring the same way); `collections`: their ids.
 *
 * Dekker's rule, as for `FileLeases`: `add` puts its members in the lease and, in the same
 * transaction, reads the running collections, then waits for those to end; `collect` sets its marker
 * and then reads the leases. A Redis primary executes commands one at a time, in one order that
 * respects each client's real-time order (it is linearizable), and a MULTI block is one step of that
 * order. So of an add and a collection, whichever writes second reads after the other's write: either
 * the collection sees the lease and keeps the resource, or the add sees the marker and waits for the
 * collection to end before its caller checks that the resource exists. On a Redis Cluster every key
 * here shares one hash slot, so one primary orders them all. (An asynchronous replica promoted after
 * a failover may lack the last writes; a farm that must survive that runs with `WAIT` or AOF fsync.)
 */
export class RedisLeases implements LeaseManager {
  private readonly keys: RedisKeyspace;
  private readonly ttl: number;
  /** Keys this process keeps alive: its open leases and running collections. */
  private readonly beating = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    opts: RedisLeaseOptions = {},
  ) {
    this.keys = new RedisKeyspace(opts.prefix);
    this.ttl = Math.max(30, opts.ttlMs ?? 30_000);
  }

  private get leaseIds(): string {
    return this.keys.key('leases');
  }

  private get collectionIds(): string {
    return this.keys.key('collections');
  }

  leaseKey(id: string): string {
    return this.keys.key('lease', id);
  }

  private markerKey(id: string): string {
    return this.keys.key('gc', id);
  }

  /** Keeps `key` from expiring while this process lives. The timer does not hold the process open. */
  private beat(key: string, on: boolean): void {
    if (on) this.beating.add(key);
    else this.beating.delete(key);
    if (this.beating.size > 0 && !this.timer) {
      this.timer = setInterval(() => {
        const p = this.redis.pipeline();
        for (const k of this.beating) p.pexpire(k, this.ttl);
        p.exec().catch(() => undefined); // Redis away for a moment: the next beat tries again
      }, Math.max(10, Math.floor(this.ttl / 3)));
      this.timer.unref();
    } else if (this.beating.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  async create(): Promise<Lease> {
    const id = randomBytes(9).toString('hex');
    const key = this.leaseKey(id);
    await this.redis.multi().sadd(key, ALIVE).pexpire(key, this.ttl).sadd(this.leaseIds, id).exec();
    this.beat(key, true);
    return new RedisLease(id, this);
  }

  /** Adds `members` to lease `id` and returns the collections that were running at that moment. */
  async addMembers(id: string, members: string[]): Promise<string[]> {
    const key = this.leaseKey(id);
    // The lease's id goes in again: a holder paused longer than the TTL comes back registered.
    const res = await this.redis.multi().sadd(key, ALIVE, ...members).pexpire(key, this.ttl).sadd(this.leaseIds, id).smembers(this.collectionIds).exec();
    const running = res?.[3]?.[1];
    return Array.isArray(running) ? (running as string[]) : [];
  }

  /** Returns once none of `collections` runs any more (ended, or its holder died and its marker expired). */
  async waitFor(collections: string[]): Promise<void> {
    let running = collections;
    while (running.length > 0) {
      const exists = await Promise.all(running.map((id) => this.redis.exists(this.markerKey(id))));
      const gone = running.filter((_, i) => exists[i] === 0);
      if (gone.length > 0) await this.redis.srem(this.collectionIds, ...gone);
      running = running.filter((_, i) => exists[i] !== 0);
      if (running.length > 0) await sleep(10);
    }
  }

  async releaseLease(id: string): Promise<void> {
    const key = this.leaseKey(id);
    this.beat(key, false);
    await this.redis.multi().del(key).srem(this.leaseIds, id).exec();
  }

  async collect<T>(fn: (leased: LeasedSet) => Promise<T>): Promise<T> {
    const id = randomBytes(9).toString('hex');
    const marker = this.markerKey(id);
    await this.redis.multi().set(marker, '1', 'PX', this.ttl).sadd(this.collectionIds, id).exec();
    this.beat(marker, true);
    try {
      return await fn(await this.readLeases());
    } finally {
      this.beat(marker, false);
      await this.redis.multi().del(marker).srem(this.collectionIds, id).exec();
    }
  }

  /** Everything live leases hold; the ids of expired ones are dropped on the way. */
  private async readLeases(): Promise<LeasedSet> {
    const set = emptyLeasedSet();
    const ids = await this.redis.smembers(this.leaseIds);
    if (ids.length === 0) return set;
    const p = this.redis.pipeline();
    for (const id of ids) p.smembers(this.leaseKey(id));
    const replies = (await p.exec()) ?? [];
    const dead: string[] = [];
    ids.forEach((id, i) => {
      const [err, members] = replies[i] ?? [];
      if (err) throw err;
      const list = (members as string[] | undefined) ?? [];
      if (list.length === 0) return void dead.push(id);
      for (const m of list) addLeaseLine(set, m);
    });
    if (dead.length > 0) await this.redis.srem(this.leaseIds, ...dead);
    return set;
  }

  /** How many leases are live. */
  async liveLeases(): Promise<number> {
    const ids = await this.redis.smembers(this.leaseIds);
    if (ids.length === 0) return 0;
    return (await Promise.all(ids.map((id) => this.redis.exists(this.leaseKey(id))))).filter((n) => n === 1).length;
  }
}

class RedisLease extends LeaseBase {
  constructor(
    id: string,
    private readonly leases: RedisLeases,
  ) {
    super(id);
  }

  protected async append(lines: string[]): Promise<void> {
    await this.leases.waitFor(await this.leases.addMembers(this.id, lines));
  }

  protected drop(): Promise<void> {
    return this.leases.releaseLease(this.id);
  }
}
