/**
 * The build farm on this machine, with real processes on loopback: redis-server, `dockyard
 * coordinator` and `dockyard worker` processes (each with a cache directory of its own, as if on a
 * machine of its own), driven by `dockyard build --builder`.
 * 1. Scaling: a 16-stage fan-out whose RUN steps each sleep 2 s, gathered by one final step, on 1, 2
 *    and 4 workers of one slot each: the speed-up against one worker (target: at least 0.85 x N).
 * 2. A cross-worker cache hit: an image built on worker A, then one more step on top of it placed on
 *    worker B, whose cache is empty, so B must fetch the image's layers; against downloading those
 *    layers from the coordinator's Content service.
 * Needs root and redis-server (bash scripts/setup.sh). Run: `npm run bench:farm`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { LayerRecord } from '../cache/cache-index.js';
import { LocalCache } from '../worker/remote/local-cache.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentBlobStore } from '../cache/content-blob-store.js';
import type { Digest } from '../oci/digest.js';
import { busyboxLayout } from '../test/engine-helpers.js';
import { startCoordinator, startWorker, type FarmProcess } from '../test/farm-helpers.js';
import { cliPath } from '../test/helpers.js';
import { startRedis } from '../test/redis-helpers.js';

const STAGES = 16;
const SLEEP_S = 2;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeBuild(builder: string, dir: string, args: string[]): { ms: number; stdout: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cliPath, 'build', '--builder', builder, '--progress', 'quiet', '--build-context', `busybox=oci-layout://${busyboxLayout()}`, ...args, dir], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`farm build failed: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

function fanOut(dir: string): void {
  const lines: string[] = [];
  for (let i = 1; i <= STAGES; i++) lines.push(`FROM busybox AS s${i}`, 'ARG RUN_ID', `RUN sleep ${SLEEP_S} && echo "$RUN_ID ${i}" > /out-${i}`);
  // One step gathers them all, so the build is the fan-out and not a chain of copies.
  const mounts = Array.from({ length: STAGES }, (_, i) => `--mount=type=bind,from=s${i + 1},target=/in/s${i + 1}`).join(' ');
  lines.push('FROM busybox', `RUN ${mounts} cat /in/*/out-* > /all`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), lines.join('\n') + '\n');
}

async function scaling(redisUrl: string, work: string): Promise<void> {
  const dir = join(work, 'fanout');
  fanOut(dir);
  const results: { n: number; ms: number }[] = [];
  for (const n of [1, 2, 4]) {
    const coordinator = await startCoordinator(redisUrl, ['--store', join(work, `store-${n}`)]);
    const workers: FarmProcess[] = [];
    for (let i = 0; i < n; i++) workers.push(await startWorker(coordinator.address, ['--slots', '1']));
    // Warm: the base image is uploaded and unpacked on every worker by a first build of other work.
    timeBuild(coordinator.address, dir, ['--build-arg', `RUN_ID=warm-${n}`]);
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) times.push(timeBuild(coordinator.address, dir, ['--build-arg', `RUN_ID=run-${n}-${run}-${Date.now()}`]).ms);
    results.push({ n, ms: median(times) });
    for (const w of workers) await w.stop();
    await coordinator.stop();
  }
  const one = results[0]!.ms;
  console.log(`\nScaling: ${STAGES} independent stages of "sleep ${SLEEP_S}", workers of one slot each (median of ${RUNS})`);
  console.log('| workers | build | speed-up | target |');
  console.log('| --- | --- | --- | --- |');
  for (const r of results) console.log(`| ${r.n} | ${(r.ms / 1000).toFixed(2)} s | ${(one / r.ms).toFixed(2)}x | >= ${(0.85 * r.n).toFixed(2)}x |`);
}

async function crossWorkerHit(redisUrl: string, work: string): Promise<void> {
  const dir = join(work, 'layers');
  mkdirSync(dir, { recursive: true });
  const base = ['FROM busybox', 'RUN head -c 30000000 /dev/urandom > /payload && sha256sum /payload > /payload.sum'];
  writeFileSync(join(dir, 'Dockerfile'), base.join('\n') + '\n');
  const store = join(work, 'store-hit');
  const coordinator = await startCoordinator(redisUrl, ['--store', store]);
  const a = await startWorker(coordinator.address, ['--slots', '1']);
  timeBuild(coordinator.address, dir, []);
  await a.stop();
  // The layer built on A: the store's only large blob (the base's layer is small).
  const payload = spawnSync('find', [join(store, 'blobs', 'sha256'), '-type', 'f', '-size', '+10M', '-printf', '%f\n'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  const client = new ContentBlobStore(coordinator.address, {});
  const warmDir = join(work, 'warm-b');
  mkdirSync(warmDir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), [...base, 'ARG N', 'RUN echo $N > /n'].join('\n') + '\n');
  const hits: number[] = [];
  const downloads: number[] = [];
  let bytes = 0;
  for (let run = 0; run < RUNS; run++) {
    // A fresh worker B with an empty cache, warmed by a build on the base alone (process, runc, base
    // layer), so the difference below is the fetch and unpack of A's layer, nothing else.
    const b = await startWorker(coordinator.address, ['--slots', '1']);
    writeFileSync(join(warmDir, 'Dockerfile'), `FROM busybox\nRUN echo ${run}-${Date.now()} > /w\n`);
    timeBuild(coordinator.address, warmDir, []);
    const cold = timeBuild(coordinator.address, dir, ['--build-arg', `N=${run}-a`]).ms;
    const warm = timeBuild(coordinator.address, dir, ['--build-arg', `N=${run}-b`]).ms;
    hits.push(cold - warm);
    await b.stop();
    // The same layer, downloaded from the same Content service by a plain client (digest checked).
    const t0 = process.hrtime.bigint();
    bytes = 0;
    for (const hex of payload) for await (const chunk of client.stream(`sha256:${hex}` as Digest)) bytes += (chunk as Buffer).length;
    downloads.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  // The same fetch as the worker makes it, in this process against the same Content service, timed
  // alone (no build around it): the layer into a fresh worker cache as its snapshot, unpacked as it
  // arrives, against a plain download of it; interleaved, so load changes hit both alike.
  const digest = `sha256:${payload[0]}` as Digest;
  const diff = createHash('sha256');
  await pipeline(client.stream(digest), createGunzip(), diff);
  const layer: LayerRecord = { digest, diffID: `sha256:${diff.digest('hex')}` as Digest, size: bytes, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
  const fetches: number[] = [];
  const plain: number[] = [];
  for (let run = 0; run < 2 * RUNS + 1; run++) {
    let t0 = process.hrtime.bigint();
    for await (const _ of client.stream(digest));
    plain.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const cache = new LocalCache(mkdtempSync(join(work, 'worker-cache-')), Number.MAX_SAFE_INTEGER, 0);
    const session = await cache.open();
    t0 = process.hrtime.bigint();
    await cache.ensure(session, [], client, [layer]);
    fetches.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await session.lease.release();
    rmSync(cache.dir, { recursive: true, force: true });
  }
  client.close();
  await coordinator.stop();
  const hit = median(hits);
  const download = median(downloads);
  console.log(`\nCross-worker cache hit (${(bytes / 1e6).toFixed(1)} MB layer built on worker A, needed by a fresh worker B; median of ${RUNS})`);
  console.log('| what | time |');
  console.log('| --- | --- |');
  console.log(`| the cache hit's cost on B: the step with the layer fetched, minus the same step once B has it | ${hit.toFixed(0)} ms (runs: ${hits.map((h) => h.toFixed(0)).join(', ')}) |`);
  console.log(`| downloading the same layer from Content | ${download.toFixed(0)} ms (runs: ${downloads.map((d) => d.toFixed(0)).join(', ')}) |`);
  console.log(`| ratio | ${(hit / download).toFixed(2)} |`);
  console.log(`\nThe worker's fetch alone (LocalCache.ensure, in-process; median of ${fetches.length}, interleaved)`);
  console.log('| what | time |');
  console.log('| --- | --- |');
  console.log(`| fetch into a worker cache: download, check, unpack | ${median(fetches).toFixed(0)} ms |`);
  console.log(`| plain download | ${median(plain).toFixed(0)} ms |`);
  console.log(`| ratio | ${(median(fetches) / median(plain)).toFixed(2)} |`);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dockyard-bench-farm-'));
  const redis = await startRedis();
  try {
    // BENCH_ONLY=scaling or BENCH_ONLY=hit runs one part.
    const only = process.env.BENCH_ONLY;
    if (only !== 'hit') await scaling(redis.url, work);
    if (only !== 'scaling') await crossWorkerHit(redis.url, work);
  } finally {
    await redis.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
