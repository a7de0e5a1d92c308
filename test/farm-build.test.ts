import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxLayout, requireTools, stepStates } from './engine-helpers.js';
import { startCoordinator, startWorker, type FarmProcess } from './farm-helpers.js';
import { cliPath, commandPath, freePort, makeDir, runCli, tempDir } from './helpers.js';
import { startRedis, type TestRedis } from './redis-helpers.js';
import * as grpc from '@grpc/grpc-js';
import { loadDockyardProto } from '../proto/load.js';
import type { BuildClient } from '../proto/generated/dockyard/v1/Build.js';
import { dialOptions } from '../proto/transport.js';

const multiStage = 'FROM busybox AS build\nCOPY app.txt /src/\nRUN cat /src/app.txt > /out && echo built >> /out && rm /bin/ls\nFROM build AS test\nRUN echo tested > /tested\nFROM busybox\nCOPY --from=build /out /out\nCOPY --from=test /tested /tested\nRUN echo final > /final\n';
const epoch = ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'];

describe('builds on a farm: a coordinator and three workers', () => {
  let redis: TestRedis;
  let coordinator: FarmProcess & { address: string };
  const workers: FarmProcess[] = [];
  let metricsPort: number;
  /** The coordinator's scratch directory and, below it, its store. */
  const coordinatorDir = tempDir('coordinator');

  before(async () => {
    requireTools();
    busyboxLayout();
    redis = await startRedis();
    metricsPort = await freePort();
    coordinator = await startCoordinator(redis.url, ['--metrics', `127.0.0.1:${metricsPort}`, '--cache-dir', coordinatorDir]);
    for (let i = 0; i < 3; i++) workers.push(await startWorker(coordinator.address));
  });

  after(async () => {
    for (const w of workers) await w.stop();
    assert.equal(await coordinator?.stop(), 0, 'the coordinator exits 0 on SIGTERM');
    await redis?.stop();
  });

  it('gives the digest, outputs, iidfile and metadata a local build gives, then hits the shared cache', () => {
    const dir = makeDir({ Dockerfile: multiStage, 'app.txt': 'v1\n', '.dockerignore': 'secret.txt\n', 'secret.txt': 'not sent\n' });
    const bb = ['--build-context', `busybox=oci-layout://${busyboxLayout()}`];
    const local = runCli(['build', '--progress', 'quiet', '--cache-dir', tempDir('local-cache'), ...bb, ...epoch, dir]);
    assert.equal(local.status, 0, local.stderr);

    const out = tempDir('farm-out');
    const args = ['build', '--builder', coordinator.address, '--progress', 'plain', ...bb, ...epoch, '-o', `type=oci,dest=${out}/image.tar`, '-o', `type=local,dest=${out}/fs`, '--iidfile', `${out}/iid`, '--metadata-file', `${out}/meta.json`, dir];
    const farm = runCli(args);
    assert.equal(farm.status, 0, farm.stderr);
    assert.equal(farm.stdout, local.stdout, 'the same image digest on stdout');
    assert.match(farm.stderr, /#\d+ \[build 3\/3\] RUN cat \/src\/app.txt/);
    assert.match(farm.stderr, new RegExp(`exporting to oci ${out}/image.tar`), 'progress names the client\'s destination');
    const digest = local.stdout.trim();
    const meta = JSON.parse(readFileSync(`${out}/meta.json`, 'utf8')) as Record<string, string>;
    assert.equal(meta['containerimage.digest'], digest);
    assert.equal(readFileSync(`${out}/iid`, 'utf8'), meta['containerimage.config.digest']);
    assert.equal(readFileSync(`${out}/fs/out`, 'utf8'), 'v1\nbuilt\n');
    assert.equal(readFileSync(`${out}/fs/final`, 'utf8'), 'final\n');
    assert.ok(existsSync(`${out}/fs/bin/busybox`) && existsSync(`${out}/fs/tested`), 'the local output is the image filesystem');
    const index = JSON.parse(spawnText('tar', ['-xOf', `${out}/image.tar`, 'index.json'])) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]!.digest, digest);

    const again = runCli(args);
    assert.equal(again.status, 0, again.stderr);
    const states = stepStates(again.stderr);
    assert.deepEqual(states.ran, [], 'every step comes from the shared cache');
    assert.ok(states.cached.length >= 5);

    // Built as the target, a stage the final image only copies from runs no step, and the coordinator
    // gzips its layers, which the workers stored as their uncompressed tars, to the image a local build makes.
    const target = [...bb, ...epoch, '--target', 'test', dir];
    const localTest = runCli(['build', '--progress', 'quiet', '--cache-dir', tempDir('local-cache'), ...target]);
    assert.equal(localTest.status, 0, localTest.stderr);
    const farmTest = runCli(['build', '--builder', coordinator.address, '--progress', 'plain', '-o', `type=oci,dest=${out}/test.tar`, ...target]);
    assert.equal(farmTest.status, 0, farmTest.stderr);
    assert.equal(farmTest.stdout, localTest.stdout);
    assert.deepEqual(stepStates(farmTest.stderr).ran, []);
    const blob = (d: string): string => spawnText('tar', ['-xOf', `${out}/test.tar`, `blobs/sha256/${d.slice(7)}`]);
    const manifest = JSON.parse(blob((JSON.parse(spawnText('tar', ['-xOf', `${out}/test.tar`, 'index.json'])) as { manifests: { digest: string }[] }).manifests[0]!.digest)) as { config: { digest: string } };
    const diffIDs = (JSON.parse(blob(manifest.config.digest)) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
    // COPY app.txt, RUN cat and RUN echo tested: each blob in the store under its diffID, uncompressed.
    for (const d of diffIDs.slice(-3)) assert.ok(existsSync(join(coordinatorDir, 'store', 'blobs', 'sha256', d.slice(7))), `no uncompressed blob of ${d}`);
  });

  it('remembers its context\'s file hashes in its cache directory, and sends an edited file as edited', async () => {
    const dir = makeDir({ Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\n', 'a.txt': 'first\n' });
    const cache = tempDir('client-cache');
    // Files changed (ctime) in the last 2 s are not remembered: their stamps could still change unseen.
    await new Promise((r) => setTimeout(r, 2100));
    const build = (out: string) => runCli(['build', '--builder', coordinator.address, '--cache-dir', cache, '--progress', 'quiet', '--build-context', `busybox=oci-layout://${busyboxLayout()}`, '-o', `type=local,dest=${out}`, dir]);
    const first = tempDir('first');
    assert.equal(build(first).status, 0);
    const hashDir = join(cache, 'context-hashes');
    const saved = JSON.parse(readFileSync(join(hashDir, readdirSync(hashDir).find((n) => !n.endsWith('-selections.json'))!), 'utf8')) as { files: Record<string, [string, string]> };
    assert.equal(saved.files['a.txt']![1], `sha256:${createHash('sha256').update('first\n').digest('hex')}`);
    writeFileSync(join(dir, 'a.txt'), 'second\n');
    const second = tempDir('second');
    assert.equal(build(second).status, 0);
    assert.equal(readFileSync(join(second, 'a.txt'), 'utf8'), 'second\n');
  });

  it('builds a multi-stage Dockerfile for two platforms to the index a local build makes', () => {
    const dir = makeDir({ Dockerfile: 'FROM busybox AS build\nARG TARGETARCH\nRUN echo $TARGETARCH > /arch\nFROM busybox\nCOPY --from=build /arch /arch\n' });
    const args = ['--progress', 'quiet', '--platform', 'linux/amd64,linux/arm64', '--build-context', `busybox=oci-layout://${busyboxLayout()}`, ...epoch, dir];
    const local = runCli(['build', '--cache-dir', tempDir('local-cache'), ...args]);
    assert.equal(local.status, 0, local.stderr);
    const farm = runCli(['build', '--builder', coordinator.address, ...args]);
    assert.equal(farm.status, 0, farm.stderr);
    assert.equal(farm.stdout, local.stdout);
  });

  it('copies from a local named context, its set-id file and symlink as they are, to the image a local build makes', () => {
    const dir = makeDir({ Dockerfile: 'FROM busybox\nCOPY --from=extra / /extra/\nCOPY . /ctx/\nRUN ls -ln /extra /ctx > /listing\n', 'a.txt': 'main\n' });
    const extra = makeDir({ 'tool': '#!/bin/sh\n', 'sub/b.txt': 'extra\n' });
    chmodSync(join(extra, 'tool'), 0o4755);
    symlinkSync('sub/b.txt', join(extra, 'link'));
    const args = ['--progress', 'quiet', '--build-context', `busybox=oci-layout://${busyboxLayout()}`, '--build-context', `extra=${extra}`, ...epoch, dir];
    const local = runCli(['build', '--cache-dir', tempDir('local-cache'), ...args]);
    assert.equal(local.status, 0, local.stderr);
    const farm = runCli(['build', '--builder', coordinator.address, ...args]);
    assert.equal(farm.status, 0, farm.stderr);
    assert.equal(farm.stdout, local.stdout);
  });

  it('asks the attached client for a secret a step mounts, and keeps its value out of Redis, the store and the logs', async () => {
    const value = 'sesame-7f3a9c';
    const dir = makeDir({ Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /len && sha256sum /run/secrets/tok | cut -c1-16 > /sum\n' });
    const out = tempDir('farm-secret');
    const r = runCli(['build', '--builder', coordinator.address, '--progress', 'plain', '--build-context', `busybox=oci-layout://${busyboxLayout()}`, '--secret', 'id=tok,env=TOK', '-o', `type=local,dest=${out}`, dir], { env: { TOK: value } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(`${out}/len`, 'utf8').trim(), String(value.length));
    const client = redis.connect();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    assert.ok(keys.length > 0);
    for (const key of keys) {
      const dump = await client.dumpBuffer(key);
      assert.ok(!dump || !dump.includes(value), `the secret is in Redis key ${key}`);
    }
    assert.ok(!coordinator.stderr().includes(value) && !workers.some((w) => w.stderr().includes(value)), 'the secret is in a log');
    const grep = spawnSync('grep', ['-rlF', value, coordinatorDir], { encoding: 'utf8' });
    assert.equal(grep.stdout, '', 'the secret is in a file of the coordinator: its store, uploads or scratch');
    assert.equal(grep.status, 1, grep.stderr);
  });

  /** A small build of its own, so that a test does not depend on the others having run. */
  const smallBuild = (): void => {
    const r = runCli(['build', '--builder', coordinator.address, '--progress', 'quiet', makeDir({ Dockerfile: 'FROM scratch\nCOPY a /a\n', a: `${Math.random()}\n` })]);
    assert.equal(r.status, 0, r.stderr);
  };

  it('serves Prometheus metrics with the farm\'s names', async () => {
    smallBuild();
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    for (const name of ['dockyard_queue_depth', 'dockyard_builds', 'dockyard_step_duration_seconds', 'dockyard_cache_hit_ratio', 'dockyard_bytes_moved_total', 'dockyard_worker_slots_busy']) assert.match(text, new RegExp(`^${name}`, 'm'), name);
    assert.match(text, /^dockyard_worker_slots 6$/m, 'three workers of two slots');
    assert.match(text, /^dockyard_builds\{state="completed"\} [1-9]/m);
  });

  it('runs its coordinator and workers, started as `dockyard` is installed, with a fixed start for V8\'s old generation', () => {
    for (const p of [coordinator, ...workers]) {
      const argv = readFileSync(`/proc/${p.child.pid!}/cmdline`, 'utf8').split('\0');
      assert.equal(argv[0], 'node');
      assert.ok(argv.includes('--initial-old-space-size=64'), argv.join(' '));
    }
    // Other commands start without it (it costs them 20 to 30 ms).
    const r = spawnSync('sh', ['-x', commandPath, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^\+ exec node \S*dockyard\.cjs --version$/m);
  });

  it('writes JSON log lines', () => {
    smallBuild();
    const lines = coordinator.stderr().split('\n').filter((l) => l !== '');
    assert.ok(lines.length > 0);
    for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), l);
    assert.ok(lines.some((l) => (JSON.parse(l) as { msg: string }).msg === 'build succeeded'));
  });
});

function spawnText(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('the farm refuses and queues', () => {
  let redis: TestRedis;
  let coordinator: FarmProcess & { address: string };
  const token = 'farm-token-1234';

  before(async () => {
    redis = await startRedis();
    // No worker: builds wait. One build at a time, so the second one stays queued.
    coordinator = await startCoordinator(redis.url, ['--concurrency', '1'], { DOCKYARD_TOKEN: token });
  });

  after(async () => {
    await coordinator?.stop();
    await redis?.stop();
  });

  it('names an unreachable --builder in one line', async () => {
    const port = await freePort();
    const r = runCli(['build', '--builder', `127.0.0.1:${port}`, makeDir({ Dockerfile: 'FROM scratch\n' })]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('error:')).join('\n'), `error: cannot reach builder 127.0.0.1:${port}: the connection failed (is a coordinator listening there?)`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack');
  });

  it('refuses a client without the token', () => {
    const r = runCli(['build', '--builder', coordinator.address, makeDir({ Dockerfile: 'FROM scratch\n' })], { env: { DOCKYARD_TOKEN: '' } });
    assert.equal(r.status, 1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0]!.includes(coordinator.address) && /unauthenticated|refused us/.test(lines[0]!), lines[0]);
    assert.match(lines[0]!, /token/);
    const ls = runCli(['queue', 'ls', '--builder', coordinator.address], { env: { DOCKYARD_TOKEN: 'wrong-token' } });
    assert.equal(ls.status, 1);
    assert.match(ls.stderr, /refused us/);
  });

  it('lists a queued build, and cancels it and the running one', async () => {
    const env = { ...process.env, DOCKYARD_TOKEN: token, DOCKYARD_DEBUG: '' };
    const dir = makeDir({ Dockerfile: 'FROM scratch\nCOPY a /a\n', a: 'a\n' });
    const clients = [0, 1].map(() => {
      const child = spawn(process.execPath, [cliPath, 'build', '--builder', coordinator.address, '--progress', 'plain', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      return { child, exit: new Promise<{ code: number | null; stderr: string }>((r) => child.once('exit', (code) => r({ code, stderr }))) };
    });
    let ls = '';
    for (let i = 0; i < 200 && !(/\bqueued\b/.test(ls) && /\brunning\b/.test(ls)); i++) {
      ls = runCli(['queue', 'ls', '--builder', coordinator.address], { env: { DOCKYARD_TOKEN: token } }).stdout;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(ls, /^BUILD ID +STATE +TENANT/);
    const rows = ls.trim().split('\n').slice(1).map((l) => l.split(/\s+/));
    assert.deepEqual(rows.map((r) => r[1]).sort(), ['queued', 'running']);
    const inspect = runCli(['queue', 'inspect', rows[0]![0]!, '--builder', coordinator.address], { env: { DOCKYARD_TOKEN: token } });
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.equal((JSON.parse(inspect.stdout) as { summary: { buildId: string } }).summary.buildId, rows[0]![0]);
    for (const r of rows) {
      const c = runCli(['queue', 'cancel', r[0]!, '--builder', coordinator.address], { env: { DOCKYARD_TOKEN: token } });
      assert.equal(c.stdout, `cancelled ${r[0]}\n`, c.stderr);
    }
    for (const c of clients) {
      const { code, stderr } = await c.exit;
      assert.equal(code, 1);
      assert.match(stderr, /^error: build cancelled$/m);
    }
    const all = runCli(['queue', 'ls', '--all', '--builder', coordinator.address], { env: { DOCKYARD_TOKEN: token } });
    assert.equal(all.stdout.trim().split('\n').slice(1).filter((l) => /\bcancelled\b/.test(l)).length, 2);
  });
});

describe('a coordinator dies mid-build', () => {
  let redis: TestRedis;
  const procs: FarmProcess[] = [];

  before(async () => {
    requireTools();
    busyboxLayout();
    redis = await startRedis();
  });

  after(async () => {
    for (const p of procs) await p.stop();
    await redis?.stop();
  });

  it('another coordinator takes the build over, the client moves to it, and the digest is the local one', async () => {
    const files = { Dockerfile: 'FROM busybox AS build\nRUN echo one > /one\nRUN sleep 4 && echo two > /two\nFROM busybox\nCOPY --from=build /two /two\n' };
    const dir = makeDir(files);
    const bb = ['--build-context', `busybox=oci-layout://${busyboxLayout()}`];
    const local = runCli(['build', '--progress', 'quiet', '--cache-dir', tempDir('local-cache'), ...bb, ...epoch, dir]);
    assert.equal(local.status, 0, local.stderr);

    // The client knows both coordinators of the farm; the second starts once the build runs on the first.
    const secondPort = await freePort();
    // Coordinators of one farm share the store as they share Redis.
    const store = ['--store', tempDir('farm-store')];
    const first = await startCoordinator(redis.url, store);
    procs.push(first, await startWorker(first.address));
    const builders = `${first.address},127.0.0.1:${secondPort}`;
    const client = spawn(process.execPath, [cliPath, 'build', '--builder', builders, '--progress', 'plain', ...bb, ...epoch, dir], { env: { ...process.env, DOCKYARD_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    client.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    client.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => client.once('exit', r));
    // Mid-build: the sleeping step runs on the first coordinator's worker.
    for (let i = 0; i < 300 && !/RUN sleep 4/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(stderr, /RUN sleep 4/);
    const second = await startCoordinator(redis.url, store, {}, `127.0.0.1:${secondPort}`);
    procs.push(second, await startWorker(second.address));
    first.child.kill('SIGKILL');
    // The second coordinator takes the build over, and the client moves to it.
    const code = await exited;
    assert.equal(code, 0, stderr);
    assert.equal(stdout, local.stdout, 'the same digest as the local build');
    assert.match(second.stderr(), /"msg":"build resumed"/);
  });
});

describe('a secret for a build that runs on another coordinator than the one its client is attached to', () => {
  it('is relayed coordinator to coordinator, and its value is in no Redis key and no log', async () => {
    requireTools();
    const redis = await startRedis();
    const store = tempDir('shared-store');
    // The client's coordinator runs no build (--concurrency 0): the build can only run on the other.
    const front = await startCoordinator(redis.url, ['--store', store, '--concurrency', '0']);
    const runner = await startCoordinator(redis.url, ['--store', store]);
    const worker = await startWorker(runner.address);
    try {
      const value = 'relay-sesame-41c9';
      const dir = makeDir({ Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /len\n' });
      const out = tempDir('relayed-secret');
      const r = runCli(['build', '--builder', front.address, '--progress', 'plain', '--build-context', `busybox=oci-layout://${busyboxLayout()}`, '--secret', 'id=tok,env=TOK', '-o', `type=local,dest=${out}`, dir], { env: { TOK: value } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(`${out}/len`, 'utf8').trim(), String(value.length));
      // (the children's log lines are read once this process runs again after spawnSync)
      for (let i = 0; i < 100 && !runner.stderr().includes('"msg":"build succeeded"'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(runner.stderr(), /"msg":"build succeeded"/);
      assert.doesNotMatch(front.stderr(), /"msg":"build started"/);
      const client = redis.connect();
      for (const key of await client.keys('*')) {
        const dump = await client.dumpBuffer(key);
        assert.ok(!dump || !dump.includes(value), `the secret is in Redis key ${key}`);
      }
      client.disconnect();
      for (const p of [front, runner, worker]) assert.ok(!p.stderr().includes(value), 'the secret is in a log');
      // A peer that holds the farm's token but not the build's grant (which only coordinators read
      // from Redis) cannot have a client asked for a secret.
      const { credentials, options } = dialOptions({});
      const peer = new (loadDockyardProto().dockyard.v1.Build)(front.address, credentials, options) as unknown as BuildClient;
      const refused = await new Promise<grpc.ServiceError | null>((resolve) => peer.RelaySecret({ buildId: 'any', secretId: 'tok', grant: 'guess' }, (err: grpc.ServiceError | null) => resolve(err)));
      peer.close();
      assert.equal(refused?.code, grpc.status.PERMISSION_DENIED);
      assert.equal(refused?.details, 'RelaySecret for build any: no valid relay grant');
    } finally {
      await worker.stop();
      await runner.stop();
      await front.stop();
      await redis.stop();
    }
  });
});
