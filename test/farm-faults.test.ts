import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { busyboxLayout, requireTools, stepStates } from './engine-helpers.js';
import { startCoordinator, startWorker, type FarmProcess } from './farm-helpers.js';
import { cliPath, makeDir, runCli, tempDir, type CliResult } from './helpers.js';
import { startRedis, type TestRedis } from './redis-helpers.js';

const epoch = ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'];
const bb = (): string[] => ['--build-context', `busybox=oci-layout://${busyboxLayout()}`];

/** `dockyard build --builder ADDRESS` in the background, with its plain progress as it comes. */
function farmBuild(address: string, dir: string, extra: string[] = []): { done: Promise<CliResult>; stderr(): string } {
  const child = spawn(process.execPath, [cliPath, 'build', '--builder', address, '--progress', 'plain', ...bb(), ...epoch, ...extra, dir], { env: { ...process.env, DOCKYARD_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { done: new Promise((resolve) => child.once('exit', (status) => resolve({ status, stdout, stderr }))), stderr: () => stderr };
}

function localDigest(dir: string): string {
  const r = runCli(['build', '--progress', 'quiet', '--cache-dir', tempDir('local-cache'), ...bb(), ...epoch, dir]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Whether `pid` has a runc process among its descendants: the worker running a RUN step. */
function runsRunc(pid: number): boolean {
  const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
  return children.some((c) => /\brunc\b/.test(spawnSync('ps', ['-o', 'args=', '-p', String(c)], { encoding: 'utf8' }).stdout) || runsRunc(c));
}

describe('the farm survives faults and shares its cache', () => {
  let redis: TestRedis;
  /** The processes of the running test: each test has a farm of its own on the shared Redis. */
  const procs: FarmProcess[] = [];

  before(async () => {
    requireTools();
    busyboxLayout();
    redis = await startRedis();
  });

  afterEach(async () => {
    for (const p of procs.splice(0).reverse()) if (p.child.exitCode === null && p.child.signalCode === null) await p.stop();
  });

  after(async () => {
    await redis?.stop();
  });

  it('a worker killed while it runs a step: the step runs again elsewhere and the digest is the local one', async () => {
    const dir = makeDir({ Dockerfile: 'FROM busybox\nRUN echo one > /one\nRUN sleep 3 && echo two > /two\nRUN echo three > /three\n' });
    const expected = localDigest(dir);
    const coordinator = await startCoordinator(redis.url);
    const caches = [tempDir('worker'), tempDir('worker')];
    const workers = await Promise.all(caches.map((c) => startWorker(coordinator.address, ['--slots', '1', '--cache-dir', c])));
    procs.push(coordinator, ...workers);
    const build = farmBuild(coordinator.address, dir);
    for (let i = 0; i < 600 && !/RUN sleep 3/.test(build.stderr()); i++) await sleep(50);
    // The worker whose runc runs the sleeping step dies.
    let victim: FarmProcess | undefined;
    for (let i = 0; i < 200 && !victim; i++) {
      victim = workers.find((w) => runsRunc(w.child.pid!));
      if (!victim) await sleep(25);
    }
    assert.ok(victim, 'a worker runs the step');
    victim.child.kill('SIGKILL');
    const r = await build.done;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, expected);
    // A worker started again on the dead one's cache directory removes what it left mounted.
    procs.push(await startWorker(coordinator.address, ['--cache-dir', caches[workers.indexOf(victim)]!]));
  });

  it('after worker A builds an image, the same build with only worker B runs no step', async () => {
    const dir = makeDir({ Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n', 'a.txt': 'shared\n' });
    const coordinator = await startCoordinator(redis.url);
    procs.push(coordinator);
    const a = await startWorker(coordinator.address);
    const first = await farmBuild(coordinator.address, dir).done;
    assert.equal(first.status, 0, first.stderr);
    assert.ok(stepStates(first.stderr).ran.some((s) => s.includes('RUN cat')));
    assert.equal(await a.stop(), 0);
    procs.push(await startWorker(coordinator.address));
    const second = await farmBuild(coordinator.address, dir).done;
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(stepStates(second.stderr).ran, []);
    assert.equal(second.stdout, first.stdout);
  });

  it('two identical builds at once, through two coordinators, run each step once', async () => {
    // The step's output is random: both images are the same only if it ran once.
    const dir = makeDir({ Dockerfile: 'FROM busybox\nRUN sleep 1 && head -c 16 /dev/urandom | od -x > /token\n' });
    const store = ['--store', tempDir('farm-store')];
    const c1 = await startCoordinator(redis.url, store);
    const c2 = await startCoordinator(redis.url, store);
    procs.push(c1, c2, await startWorker(c1.address), await startWorker(c2.address));
    const [r1, r2] = await Promise.all([farmBuild(c1.address, dir).done, farmBuild(c2.address, dir).done]);
    assert.equal(r1.status, 0, r1.stderr);
    assert.equal(r2.status, 0, r2.stderr);
    assert.equal(r1.stdout, r2.stdout, 'one random token: the RUN ran once');
    const runs = [r1, r2].flatMap((r) => stepStates(r.stderr).ran).filter((s) => s.includes('RUN sleep'));
    assert.ok(runs.length <= 2, runs.join(' | '));
  });
});
