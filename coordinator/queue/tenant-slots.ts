import type { Redis } from 'ioredis';

/**
 * Per-tenant concurrency across every coordinator (BullMQ's open-source edition has no groups).
 *
 * Each tenant has a sorted set of slot holders, scored by when their lease ends. A holder is one
 * processing attempt (`jobId:token`, BullMQ's lock token), so a job taken over after a stall gets a new
 * slot while the stalled attempt's one runs out. Holders refresh their lease while they live; a dead
 * coordinator's slot expires instead of leaking. Acquiring drops expired holders and counts the rest in
 * one script, so two coordinators never both take the last slot.
 *
 * Jobs refused a slot are "parked" (a set per tenant) and put back by the releasing holder.
 */
const ACQUIRE = `
local now = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  return 1
end
local limit = tonumber(redis.call('HGET', KEYS[2], ARGV[5]) or ARGV[4])
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  return 1
end
return 0`;

const REFRESH = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
  return 1
end
return 0`;

const TAKE_PARKED = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return ids`;

export class TenantSlots {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** How long a slot outlives its holder's last refresh. */
    readonly leaseMs: number,
  ) {}

  private slotsKey(tenant: string): string {
    return `${this.prefix}:tenant-slots:${tenant}`;
  }
  private parkedKey(tenant: string): string {
    return `${this.prefix}:tenant-parked:${tenant}`;
  }
  private get limitsKey(): string {
    return `${this.prefix}:tenant-limits`;
  }

  /** Sets a tenant's limit for every coordinator; `undefined` returns it to the default. */
  async setLimit(tenant: string, limit: number | undefined): Promise<void> {
    if (limit === undefined) await this.redis.hdel(this.limitsKey, tenant);
    else await this.redis.hset(this.limitsKey, tenant, String(limit));
  }

  async limit(tenant: string): Promise<number | undefined> {
    const v = await this.redis.hget(this.limitsKey, tenant);
    return v === null ? undefined : Number(v);
  }

  /** Takes a slot for `holder` if the tenant has one free (or already holds one). */
  async acquire(tenant: string, holder: string, defaultLimit: number): Promise<boolean> {
    const r = await this.redis.eval(ACQUIRE, 2, this.slotsKey(tenant), this.limitsKey, holder, Date.now(), this.leaseMs, defaultLimit, tenant);
    return r === 1;
  }

  /** Extends the holder's lease; false if it had expired (the slot may since have gone to another job). */
  async refresh(tenant: string, holder: string): Promise<boolean> {
    return (await this.redis.eval(REFRESH, 1, this.slotsKey(tenant), holder, Date.now(), this.leaseMs)) === 1;
  }

  async release(tenant: string, holder: string): Promise<void> {
    await this.redis.zrem(this.slotsKey(tenant), holder);
  }

  /** Live holders, for inspection. */
  async holders(tenant: string): Promise<string[]> {
    return this.redis.zrangebyscore(this.slotsKey(tenant), Date.now(), '+inf');
  }

  async park(tenant: string, jobId: string): Promise<void> {
    await this.redis.zadd(this.parkedKey(tenant), Date.now(), jobId);
  }

  async unpark(tenant: string, jobId: string): Promise<void> {
    await this.redis.zrem(this.parkedKey(tenant), jobId);
  }

  /** Every job parked for the tenant, removed from the set (whoever takes them wakes them). */
  async takeParked(tenant: string): Promise<string[]> {
    return (await this.redis.eval(TAKE_PARKED, 1, this.parkedKey(tenant))) as string[];
  }
}
