import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { StepLocks } from '../coordinator/queue/step-locks.js';
import { startRedis, type TestRedis } from './redis-helpers.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** A step result store shared by the contenders, standing in for the cache index. */
function fakeCache() {
  const results = new Map<string, string>();
  return { results, cached: async (key: string) => results.get(key) };
}

describe('StepLocks', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  const connect = (): Redis => {
    const c = new Redis(redis.url);
    clients.push(c);
    return c;
  };
  let n = 0;
  const prefix = (): string => `{dockyard-steplocks-${process.pid}-${++n}}`;

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await redis.close();
  });

  it('runs a step once when two holders on different connections ask at once; the other waits and sees it done', async () => {
    const p = prefix();
    const a = new StepLocks(connect(), { prefix: p, leaseMs: 300 });
    const b = new StepLocks(connect(), { prefix: p, leaseMs: 300 });
    const cache = fakeCache();
    let runs = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let aHolds!: () => void;
    const aStarted = new Promise<void>((r) => (aHolds = r));
    const step = 'sha256:step-one';
    const run = async (): Promise<string> => {
      runs++;
      aHolds();
      await gate;
      cache.results.set(step, 'layer-chain-1');
      return 'layer-chain-1';
    };
    const first = a.runOnce(step, { cached: () => cache.cached(step), run });
    await aStarted;
    const rounds: number[] = [];
    const second = b.runOnce(step, {
      cached: () => cache.cached(step),
      run,
      // Keep the holder busy through several of its lease periods: it must refresh its lease, or B would
      // find the lock free and run the step a second time.
      waiting: (round) => {
        rounds.push(round);
        if (round === 4) open();
      },
    });
    const [ra, rb] = await Promise.all([first, second]);
    assert.equal(runs, 1);
    assert.deepEqual(ra, { value: 'layer-chain-1', source: 'ran', waited: false });
    assert.deepEqual(rb, { value: 'layer-chain-1', source: 'cache', waited: true });
    assert.ok(rounds.length >= 4, `B waited ${rounds.length} rounds`);
    a.close();
    b.close();
  });

  it('hands the step to a waiter when the holder process is SIGKILLed', async () => {
    const p = prefix();
    const step = 'sha256:step-of-a-dead-holder';
    const holder = spawn(process.execPath, [join(fixtures, 'step-lock-holder.js'), redis.url, p, step, '400'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(holder.stdout!, 'data')) as [Buffer];
    assert.equal(line.toString().trim(), 'holding');

    const locks = new StepLocks(connect(), { prefix: p, leaseMs: 400 });
    const cache = fakeCache();
    let runs = 0;
    const result = await locks.runOnce(step, {
      cached: () => cache.cached(step),
      run: async () => {
        runs++;
        cache.results.set(step, 'rebuilt');
        return 'rebuilt';
      },
      // Kill the holder only once we are waiting for it: its lease must run out for us to go on.
      waiting: (round) => {
        if (round === 1) holder.kill('SIGKILL');
      },
    });
    assert.equal(holder.signalCode ?? (await once(holder, 'exit'))[1], 'SIGKILL');
    assert.deepEqual(result, { value: 'rebuilt', source: 'ran', waited: true });
    assert.equal(runs, 1);
    locks.close();
  });

  it('never frees or extends a lock that has passed to another holder (compare-and-delete)', async () => {
    const p = prefix();
    const redisA = connect();
    const a = new StepLocks(redisA, { prefix: p, leaseMs: 5000, refreshMs: 50 });
    const b = new StepLocks(connect(), { prefix: p, leaseMs: 5000 });
    const step = 'sha256:expired-lease';
    const leaseA = await a.tryAcquire(step);
    assert.ok(leaseA);
    assert.equal(await b.tryAcquire(step), undefined);
    // A's lease runs out (as if A had been paused past it) and B takes the step.
    await redisA.del(`${p}:step-lock:${step}`);
    const leaseB = await b.tryAcquire(step);
    assert.ok(leaseB);
    // A's next refresh finds B's token: A learns it lost the lock, and does not extend B's.
    await once(leaseA.lost, 'abort');
    assert.equal(await leaseA.release(), false);
    assert.ok((await redisA.pttl(`${p}:step-lock:${step}`)) > 0, "B's lock is still there");
    assert.equal(await leaseB.release(), true);
    assert.equal(await redisA.exists(`${p}:step-lock:${step}`), 0);
    a.close();
    b.close();
  });

  it('refuses a key prefix without a Cluster hash tag', () => {
    assert.throws(() => new StepLocks(connect(), { prefix: 'dockyard' }), /hash tag/);
  });
});
