import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { BuildRequest } from '../coordinator/queue/build-job.js';
import { ExpectedError } from '../oci/expected-error.js';
import { BuildQueue } from '../coordinator/queue/build-queue.js';
import { BuildQueueWorker, type BuildProcessor, type BuildQueueWorkerOptions, type WorkerEvent } from '../coordinator/queue/build-queue-worker.js';
import { startRedis, type TestRedis } from './redis-helpers.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const digest = (c: string): string => `sha256:${c.repeat(64)}`;

function request(overrides: Partial<BuildRequest> = {}): BuildRequest {
  return {
    dockerfileName: 'Dockerfile',
    dockerfileText: 'FROM busybox\nRUN --mount=type=secret,id=npm_token true\n',
    context: { digest: digest('a') },
    namedContexts: [{ name: 'base', type: 'uploaded', digest: digest('b') }],
    tags: ['registry.example/app:1'],
    buildArgs: { VERSION: '1.0' },
    platforms: [{ os: 'linux', architecture: 'amd64' }],
    secretIds: ['npm_token'],
    labels: {},
    outputs: [{ type: 'oci', dest: 'out.tar', tar: true }],
    noCache: false,
    noCacheFilter: [],
    ...overrides,
  };
}

/** A condition re-checked whenever the test's processors or workers report something. */
class Watcher {
  private checks = new Set<() => void>();
  changed(): void {
    for (const c of [...this.checks]) c();
  }
  until(cond: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (cond()) {
          this.checks.delete(check);
          resolve();
        }
      };
      this.checks.add(check);
      check();
    });
  }
}

/** A processor whose builds run until the test releases them; a released build that runs again (after a lost lock) finishes at once. */
function gatedProcessor(watcher: Watcher) {
  const running = new Map<string, { tenant: string; release: () => void }>();
  const released = new Set<string>();
  /** The most builds of each tenant seen running at once, counted by the processors themselves. */
  const maxRunning: Record<string, number> = {};
  const count = (tenant: string): number => [...running.values()].filter((r) => r.tenant === tenant).length;
  const processor: BuildProcessor<{ tenant: string }> = async (build, signal) => {
    if (!released.has(build.id)) {
      await new Promise<void>((resolve, reject) => {
        running.set(build.id, {
          tenant: build.data.tenant,
          release: () => {
            released.add(build.id);
            resolve();
          },
        });
        maxRunning[build.data.tenant] = Math.max(maxRunning[build.data.tenant] ?? 0, count(build.data.tenant));
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        watcher.changed();
      }).finally(() => running.delete(build.id));
    }
    return { tenant: build.data.tenant };
  };
  return { running, processor, maxRunning, count };
}

/** A coordinator as a child process (test/fixtures/queue-coordinator.ts), and the JSON lines it prints. */
class Coordinator {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  constructor(
    redisUrl: string,
    prefix: string,
    readonly name: string,
    private readonly watcher: Watcher,
  ) {
    this.child = spawn(process.execPath, [join(fixtures, 'queue-coordinator.js'), redisUrl, prefix, name], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      this.lines.push(JSON.parse(l) as Record<string, unknown>);
      watcher.changed();
    });
  }
  has(event: string, id?: string): Record<string, unknown> | undefined {
    return this.lines.find((l) => l.event === event && (id === undefined || l.id === id));
  }
  async ready(): Promise<void> {
    await this.watcher.until(() => this.has('ready') !== undefined);
  }
  release(id: string): void {
    this.child.stdin!.write(`release ${id}\n`);
  }
  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

// The timeout only turns a hang (a lost wake-up, a lost cancel) into a failure; nothing is timed.
describe('BuildQueue', { timeout: 120_000 }, () => {
  let redis: TestRedis;
  const closers: (() => Promise<void>)[] = [];
  let n = 0;
  const prefix = (): string => `{dockyard-queue-${process.pid}-${++n}}`;
  const queue = (p: string, extra: Partial<ConstructorParameters<typeof BuildQueue>[0]> = {}, url = redis.url): BuildQueue => {
    const q = new BuildQueue({ redisUrl: url, prefix: p, backoffMs: 20, ...extra });
    closers.push(() => q.close());
    return q;
  };
  const worker = async <R>(p: string, name: string, processor: BuildProcessor<R>, extra: Partial<BuildQueueWorkerOptions> = {}, url = redis.url): Promise<BuildQueueWorker<R>> => {
    const w = new BuildQueueWorker<R>({ redisUrl: url, prefix: p, name, lockDurationMs: 1000, stalledIntervalMs: 500, parkDelayMs: 200, ...extra }, processor);
    closers.push(() => w.close());
    await w.start();
    return w;
  };

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    await redis.close();
  });

  it('dispatches by priority, 1 first (one worker, one build at a time)', async () => {
    const p = prefix();
    const q = queue(p);
    const ids = new Map<string, number>();
    for (const priority of [5, 1, 3, 2, 4]) ids.set(await q.enqueue(request(), { tenant: 'acme', priority }), priority);
    const order: number[] = [];
    await worker(p, 'c1', async (build) => void order.push(ids.get(build.id)!), { concurrency: 1 });
    for (const id of ids.keys()) await q.waitUntilFinished(id);
    assert.deepEqual(order, [1, 2, 3, 4, 5]);
  });

  it('never runs more builds of a tenant at once than its limit, over two coordinators', async () => {
    const p = prefix();
    const q = queue(p);
    await q.setTenantConcurrency('acme', 2);
    const watcher = new Watcher();
    const { running, processor, maxRunning, count } = gatedProcessor(watcher);
    const limits: Record<string, number> = { acme: 2, beta: 1 };
    const total: Record<string, number> = { acme: 6, beta: 3 };
    const done: Record<string, number> = { acme: 0, beta: 0 };
    let parked = 0;
    const onEvent = (e: WorkerEvent): void => {
      if (e.kind === 'parked') parked++;
      if (e.kind === 'finished') done[e.tenant]!++;
      watcher.changed();
    };
    for (const [tenant, k] of Object.entries(total)) for (let i = 0; i < k; i++) await q.enqueue(request(), { tenant });
    // Six build slots in all, more than the two tenants may use together.
    await worker(p, 'c1', processor, { concurrency: 3, defaultTenantConcurrency: 1, onEvent });
    await worker(p, 'c2', processor, { concurrency: 3, defaultTenantConcurrency: 1, onEvent });
    while (done.acme! + done.beta! < 9) {
      // Wait until every tenant runs as many builds as it may, then let one build finish.
      await watcher.until(() => Object.keys(limits).every((t) => count(t) >= Math.min(limits[t]!, total[t]! - done[t]!)));
      const before = done.acme! + done.beta!;
      [...running.values()][0]!.release();
      await watcher.until(() => done.acme! + done.beta! > before);
    }
    assert.deepEqual(maxRunning, { acme: 2, beta: 1 });
    assert.ok(parked > 0, 'builds beyond the limit were parked');
    // Parked builds were not charged an attempt.
    const listed = await q.list();
    assert.deepEqual(listed.map((s) => [s.state, s.attempts]), Array(9).fill(['completed', 1]));
    for (const s of listed) assert.equal((await q.inspect(s.id))?.outcome?.attempt, 1);
  });

  it('cancels a waiting build by removing it, and a running one by aborting its processor', async () => {
    const p = prefix();
    const q = queue(p);
    const waitingId = await q.enqueue(request(), { tenant: 'acme' });
    assert.deepEqual(await q.cancel(waitingId), { kind: 'removed' });
    assert.equal(await q.inspect(waitingId), undefined);

    const watcher = new Watcher();
    const { running, processor } = gatedProcessor(watcher);
    await worker(p, 'c1', processor);
    const activeId = await q.enqueue(request(), { tenant: 'acme', attempts: 3 });
    await watcher.until(() => running.has(activeId));
    assert.deepEqual(await q.cancel(activeId), { kind: 'signalled' });
    await assert.rejects(q.waitUntilFinished(activeId), /cancelled/);
    const details = await q.inspect(activeId);
    assert.equal(details?.state, 'cancelled');
    // Not retried, though two attempts were left.
    assert.equal(details?.attempts, 1);
    assert.deepEqual(await q.cancel(activeId), { kind: 'finished', state: 'cancelled' });
    assert.deepEqual(await q.cancel('no-such-build'), { kind: 'not-found' });
    assert.deepEqual(
      (await q.list()).map((s) => [s.id, s.state]),
      [[activeId, 'cancelled']],
    );
  });

  it('retries a failing build with backoff, and reports progress and the outcome to a watcher', async () => {
    const p = prefix();
    const q = queue(p);
    await worker(p, 'c1', async (build) => {
      await build.reportProgress({ stepsDone: build.attempt, stepsTotal: 3, current: `attempt ${build.attempt}` });
      if (build.attempt < 3) throw new Error(`flaky step on attempt ${build.attempt}`);
      return { image: digest('c') };
    });
    const events: unknown[] = [];
    const id = await q.enqueue(request(), { tenant: 'acme', attempts: 3 });
    const stop = await q.watch(id, (e) => events.push(e));
    const outcome = await q.waitUntilFinished<{ image: string }>(id);
    stop();
    assert.deepEqual(outcome, { value: { image: digest('c') }, finishedBy: 'c1', attempt: 3 });
    const details = await q.inspect(id);
    assert.equal(details?.state, 'completed');
    assert.equal(details?.attempts, 3);
    assert.equal(details?.takeovers, 0);
    assert.equal(details?.maxAttempts, 3);
    assert.deepEqual(details?.progress, { stepsDone: 3, stepsTotal: 3, current: 'attempt 3' });
    assert.deepEqual(details?.outcome, outcome);
    assert.ok(events.some((e) => JSON.stringify(e) === JSON.stringify({ kind: 'progress', progress: { stepsDone: 3, stepsTotal: 3, current: 'attempt 3' } })));
    assert.deepEqual(events.at(-1), { kind: 'completed', outcome });

    // With two attempts only, it fails for good, with the last attempt's reason.
    const failing = await q.enqueue(request(), { tenant: 'acme', attempts: 2 });
    await assert.rejects(q.waitUntilFinished(failing), /flaky step on attempt 2/);
    const failed = await q.inspect(failing);
    assert.equal(failed?.state, 'failed');
    assert.equal(failed?.attempts, 2);
  });

  it('hands the build of a SIGKILLed coordinator to another one, which finishes it', async () => {
    const p = prefix();
    const q = queue(p);
    const watcher = new Watcher();
    const coordinators = [new Coordinator(redis.url, p, 'coord-a', watcher), new Coordinator(redis.url, p, 'coord-b', watcher)];
    closers.push(async () => coordinators.forEach((c) => c.stop()));
    await Promise.all(coordinators.map((c) => c.ready()));
    const id = await q.enqueue(request(), { tenant: 'acme' });
    await watcher.until(() => coordinators.some((c) => c.has('started', id)));
    const [victim, survivor] = coordinators[0]!.has('started', id) ? coordinators : [coordinators[1]!, coordinators[0]!];
    victim!.stop();
    await watcher.until(() => survivor!.has('started', id) !== undefined);
    assert.deepEqual(survivor!.has('started', id), { event: 'started', id, attempt: 2, resumed: true, name: survivor!.name });
    survivor!.release(id);
    const outcome = await q.waitUntilFinished<{ pid: number }>(id);
    assert.deepEqual(outcome, { value: { pid: survivor!.child.pid }, finishedBy: survivor!.name, attempt: 2 });
    const details = await q.inspect(id);
    assert.equal(details?.processedBy, survivor!.name);
    assert.equal(details?.attempts, 2);
    assert.equal(details?.takeovers, 1);
  });

  it('loses no queued build when Redis (AOF, fsync always) is killed and restarted', async () => {
    const durable = await startRedis({ appendfsync: 'always' });
    closers.push(() => durable.close());
    const p = prefix();
    const q = queue(p, {}, durable.url);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await q.enqueue(request({ tags: [`app:${i}`] }), { tenant: 'acme', priority: 10 + i }));
    await durable.restart('SIGKILL');
    const seen: string[] = [];
    await worker(p, 'c1', async (build) => void seen.push(build.data.request.tags[0]!), { defaultTenantConcurrency: 5 }, durable.url);
    for (const id of ids) await q.waitUntilFinished(id);
    assert.deepEqual(seen.sort(), ['app:0', 'app:1', 'app:2', 'app:3', 'app:4']);
    assert.deepEqual((await q.list()).map((s) => s.state), Array(5).fill('completed'));
  });

  it('goes on with a running coordinator across a Redis restart (AOF, fsync always)', async () => {
    const durable = await startRedis({ appendfsync: 'always' });
    closers.push(() => durable.close());
    const p = prefix();
    const q = queue(p, {}, durable.url);
    const watcher = new Watcher();
    const { running, processor } = gatedProcessor(watcher);
    // A restart longer than the lock would only make BullMQ run the build again, which the processor allows.
    await worker(p, 'c1', processor, { concurrency: 1, defaultTenantConcurrency: 5, lockDurationMs: 5000 }, durable.url);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await q.enqueue(request(), { tenant: 'acme', priority: 10 + i }));
    await watcher.until(() => running.has(ids[0]!));
    await durable.restart('SIGKILL');
    for (const id of ids) {
      await watcher.until(() => running.has(id));
      running.get(id)!.release();
      assert.equal((await q.waitUntilFinished<{ tenant: string }>(id)).value.tenant, 'acme');
    }
    assert.deepEqual((await q.list()).map((s) => s.state), Array(3).fill('completed'));
  });

  it('refuses a bad tenant, priority, prefix or Redis URL with an expected error', async () => {
    const q = queue(prefix());
    await assert.rejects(q.enqueue(request(), { tenant: 'a tenant' }), (e: Error) => e instanceof ExpectedError && /invalid tenant "a tenant"/.test(e.message));
    await assert.rejects(q.enqueue(request(), { tenant: 'acme', priority: 0 }), (e: Error) => e instanceof ExpectedError && /invalid priority 0/.test(e.message));
    await assert.rejects(q.enqueue(request({ context: { digest: 'sha256:abc' } }), { tenant: 'acme' }), /request\.context\.digest must be a sha256 digest/);
    await assert.rejects(q.setTenantConcurrency('acme', 0), /invalid tenant concurrency 0/);
    assert.throws(() => new BuildQueue({ redisUrl: redis.url, prefix: 'dockyard' }), (e: Error) => e instanceof ExpectedError && /hash tag/.test(e.message));
    assert.throws(() => new BuildQueue({ redisUrl: 'http://127.0.0.1:6379' }), (e: Error) => e instanceof ExpectedError && /expected redis:\/\/HOST:PORT/.test(e.message));
  });

  it('keeps secret values out of Redis: payloads carry secret ids only, and anything else is refused', async () => {
    const p = prefix();
    const q = queue(p);
    const secret = `dy-secret-${randomBytes(12).toString('hex')}`;
    const canary = `visible-canary-${randomBytes(12).toString('hex')}`;
    // The CLI's view of a secret holds where it lives; a payload that carries more is refused.
    await assert.rejects(q.enqueue({ ...request(), secrets: [{ id: 'npm_token', value: secret }] } as BuildRequest, { tenant: 'acme' }), /request\.secrets is not a field/);
    // The value reaches the processor from elsewhere (the client's session stream, later).
    const sessionSecrets = new Map([['npm_token', secret]]);
    const watcher = new Watcher();
    const used: string[] = [];
    await worker(p, 'c1', async (build) => {
      for (const sid of build.data.request.secretIds) used.push(sessionSecrets.get(sid)!.slice(0, 9));
      await build.reportProgress({ stepsDone: 1, stepsTotal: 1, current: 'RUN --mount=type=secret,id=npm_token' });
      watcher.changed();
      return { ok: true };
    });
    const id = await q.enqueue(request({ buildArgs: { CANARY: canary } }), { tenant: 'acme' });
    await q.waitUntilFinished(id);
    assert.deepEqual(used, ['dy-secret']);

    const admin = new Redis(redis.url);
    try {
      // Uncompressed dumps, so that a value inside one can be found by a byte search.
      await admin.config('SET', 'rdbcompression', 'no');
      let canarySeen = false;
      let keys = 0;
      let cursor = '0';
      do {
        const [next, batch] = await admin.scan(cursor, 'COUNT', 1000);
        cursor = next;
        for (const key of batch) {
          keys++;
          assert.ok(!key.includes(secret), `key name ${key}`);
          const dump = await admin.dumpBuffer(key);
          // Gone since the SCAN (BullMQ's stalled-check key expires): it holds nothing any more.
          if (dump === null) continue;
          assert.ok(!dump.includes(secret), `the secret is in ${key}`);
          if (dump.includes(canary)) canarySeen = true;
        }
      } while (cursor !== '0');
      assert.ok(keys > 0);
      assert.ok(canarySeen, 'the search finds a value the payload did carry');
    } finally {
      admin.disconnect();
    }
  });
});
