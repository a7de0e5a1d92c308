import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { checkPrefix } from './redis-connection.js';

/**
 * Identical steps requested at once by different builds, through any coordinator, run once.
 *
 * One Redis key per step key, `SET NX PX`: its value is the holder's random token, its expiry a lease
 * the holder refreshes while it lives. If the holder dies the key expires and a waiter takes over.
 * Refresh and release compare the token first (one Lua script each), so a holder whose lease ran out
 * never extends or frees the lock someone else took since. Release publishes on a channel per step,
 * which wakes waiters at once; a waiter also wakes when the lease would end, which covers a dead holder.
 */
const REFRESH = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'released')
  return 1
end
return 0`;

export interface StepLocksOptions {
  prefix?: string;
  /** How long a lock outlives its holder's last refresh. Default 10 000 ms. */
  leaseMs?: number;
  /** How often a holder refreshes. Default a third of the lease. */
  refreshMs?: number;
}

/** A held step lock. `lost` aborts if the lease could not be refreshed (another may now run the step too). */
export interface StepLease {
  readonly stepKey: string;
  readonly lost: AbortSignal;
  /** Frees the lock if it is still ours, and wakes the waiters. */
  release(): Promise<boolean>;
}

export interface RunOnce<T> {
  /** The step's result if the cache has it. Called first, and again after every wait and after acquiring. */
  cached(): Promise<T | undefined>;
  /** Runs the step while holding its lock. Its result must be in the cache when it returns. */
  run(lease: StepLease): Promise<T>;
  /** Called each time this caller finds the lock held and waits (round 1, 2, ...: once per release or lease period). */
  waiting?(round: number): void;
}

export interface RunOnceResult<T> {
  value: T;
  /** `ran`: this caller ran it; `cache`: another holder (or an earlier build) did. */
  source: 'ran' | 'cache';
  /** Whether it waited for another holder. */
  waited: boolean;
}

const STEP_KEY = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/;

export class StepLocks {
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly refreshMs: number;
  private subscriber: Redis | undefined;
  /** Waiters per channel, woken by a release message. */
  private readonly waiters = new Map<string, Set<() => void>>();

  /** `redis` is used for commands; a duplicate of it, made on first wait, for pub/sub. */
  constructor(
    private readonly redis: Redis,
    options: StepLocksOptions = {},
  ) {
    this.prefix = checkPrefix(options.prefix);
    this.leaseMs = options.leaseMs ?? 10_000;
    this.refreshMs = options.refreshMs ?? Math.max(1, Math.floor(this.leaseMs / 3));
  }

  private key(stepKey: string): string {
    if (!STEP_KEY.test(stepKey)) throw new RangeError(`invalid step key ${JSON.stringify(stepKey)}`);
    return `${this.prefix}:step-lock:${stepKey}`;
  }
  private channel(stepKey: string): string {
    return `${this.prefix}:step-done:${stepKey}`;
  }

  /** Takes the step's lock if nobody holds it. */
  async tryAcquire(stepKey: string): Promise<StepLease | undefined> {
    const key = this.key(stepKey);
    const token = randomUUID();
    if ((await this.redis.set(key, token, 'PX', this.leaseMs, 'NX')) !== 'OK') return undefined;
    const lost = new AbortController();
    let released = false;
    const timer = setInterval(() => {
      this.redis.eval(REFRESH, 1, key, token, this.leaseMs).then(
        (r) => {
          if (r !== 1 && !released) {
            clearInterval(timer);
            lost.abort(new Error(`lost the lock of step ${stepKey}`));
          }
        },
        // A failed refresh (Redis restarting) is retried at the next tick; the lease covers a few.
        () => {},
      );
    }, this.refreshMs);
    return {
      stepKey,
      lost: lost.signal,
      release: async () => {
        released = true;
        clearInterval(timer);
        return (await this.redis.eval(RELEASE, 1, key, token, this.channel(stepKey))) === 1;
      },
    };
  }

  /** Resolves when nobody holds the step's lock (released, or its holder's lease ran out). */
  async waitForRelease(stepKey: string, signal?: AbortSignal): Promise<void> {
    while (await this.waitOnce(stepKey, signal));
  }

  /**
   * Waits for the holder's release message or for the end of its current lease, whichever is first;
   * false at once if nobody holds the lock. A live holder will have refreshed the lease by then, a dead
   * one not, so the caller looks again.
   */
  private async waitOnce(stepKey: string, signal?: AbortSignal): Promise<boolean> {
    const key = this.key(stepKey);
    const channel = this.channel(stepKey);
    const wakers = await this.subscribed(channel);
    try {
      signal?.throwIfAborted();
      // Checked after subscribing: a release before this is seen here, one after as a message.
      const ttl = await this.redis.pttl(key);
      if (ttl === -2) return false;
      await new Promise<void>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          wakers.delete(done);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          done();
          reject(signal!.reason);
        };
        const timer = setTimeout(done, ttl > 0 ? ttl + 5 : this.refreshMs);
        wakers.add(done);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      return true;
    } finally {
      await this.unsubscribed(channel);
    }
  }

  /**
   * The step's result, running it here only if no other holder is running it: check the cache, take the
   * lock or wait for its holder, check the cache again. A holder that dies leaves the step to a waiter.
   */
  async runOnce<T>(stepKey: string, step: RunOnce<T>, signal?: AbortSignal): Promise<RunOnceResult<T>> {
    let waited = false;
    for (let round = 1; ; round++) {
      const hit = await step.cached();
      if (hit !== undefined) return { value: hit, source: 'cache', waited };
      const lease = await this.tryAcquire(stepKey);
      if (lease) {
        try {
          // The previous holder may have finished between our cache check and our lock.
          const late = await step.cached();
          if (late !== undefined) return { value: late, source: 'cache', waited };
          return { value: await step.run(lease), source: 'ran', waited };
        } finally {
          await lease.release();
        }
      }
      waited = true;
      step.waiting?.(round);
      await this.waitOnce(stepKey, signal);
    }
  }

  private async subscribed(channel: string): Promise<Set<() => void>> {
    if (!this.subscriber) {
      this.subscriber = this.redis.duplicate();
      this.subscriber.on('message', (ch: string) => {
        for (const wake of [...(this.waiters.get(ch) ?? [])]) wake();
      });
    }
    let set = this.waiters.get(channel);
    if (!set) {
      set = new Set();
      this.waiters.set(channel, set);
    }
    // Counted per waiting call, so the channel is left only by its last waiter; each waits for the
    // SUBSCRIBE to be confirmed, or it could miss a release between its PTTL and the subscription.
    const current = this.subscriptions.get(channel);
    const entry = current ? { count: current.count + 1, ready: current.ready } : { count: 1, ready: this.subscriber.subscribe(channel) };
    this.subscriptions.set(channel, entry);
    await entry.ready;
    return set;
  }

  private readonly subscriptions = new Map<string, { count: number; ready: Promise<unknown> }>();

  private async unsubscribed(channel: string): Promise<void> {
    const entry = this.subscriptions.get(channel);
    if (entry && entry.count > 1) {
      entry.count--;
      return;
    }
    this.subscriptions.delete(channel);
    this.waiters.delete(channel);
    await this.subscriber?.unsubscribe(channel);
  }

  /** Closes the pub/sub connection (the command connection belongs to the caller). */
  close(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }
}
