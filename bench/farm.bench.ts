/**
 * The build farm on this machine, with real processes on loopback: redis-server, `dockyard
 * coordinator` and `dockyard worker` processes (each with a cache directory of its own, as if on a
 * machine of its own), driven by `dockyard build --builder`.
 * 1. Scaling: a 16-stage fan-out whose RUN steps each sleep 2 s, gathered by one final step, on 1, 2
 *    and 4 workers of one slot each: the speed-up against one worker (target: at least 0.85 x N).
 * 2. A cross-worker cache hit: an image built on worker A, then one more step on top of it placed on
 *    worker B, whose cache is empty, so B must fetch the image's layers; against downloading those
 *    layers from the coordinator's Content service. Once with B on loopback, once with B behind a
 *    rate-limited link (BENCH_LINK_RATE, default 1gbit), as a worker machine on a network would be.
 * 3. The project benchmark's tree (bench/project-tree.ts) built on the farm: first build and no-op.
 * Needs root, redis-server and iproute2 (bash scripts/setup.sh). Run: `npm run bench:farm`.
 */
import { spawnSync } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContentBlobStore } from '../cache/content-blob-store.js';
import type { Digest } from '../oci/digest.js';
import { busyboxLayout } from '../test/engine-helpers.js';
import { makeProject } from './project-tree.js';
import { startCoordinator, startWorker, type FarmProcess } from '../test/farm-helpers.js';
import { cliPath, workerNodeOptions } from '../test/helpers.js';
import { startRedis } from '../test/redis-helpers.js';

const STAGES = 16;
const SLEEP_S = 2;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeBuild(builder: string, dir: string, args: string[], env: NodeJS.ProcessEnv = {}): { ms: number; stdout: string; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cliPath, 'build', '--builder', builder, '--progress', 'quiet', '--build-context', `busybox=oci-layout://${busyboxLayout()}`, ...args, dir], { encoding: 'utf8', env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`farm build failed: ${r.stderr}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

/** The stamp of each DOCKYARD_TRACE line of `text`, with its label. */
function traceLines(text: string): { ms: number; label: string }[] {
  return [...text.matchAll(/^\[trace +(\d+)\] (.*)$/gm)].map((m) => ({ ms: Number(m[1]), label: m[2]! }));
}

/** Milliseconds between the first trace lines of `text` that match `from` and `to`. */
function tracedBetween(text: string, from: RegExp, to: RegExp): number | undefined {
  const lines = traceLines(text);
  const a = lines.find((l) => from.test(l.label));
  const b = lines.find((l) => to.test(l.label));
  return a && b ? b.ms - a.ms : undefined;
}

/** The client's `upload:` lines: its context walked, hashed, and the files the store lacked sent. */
const WALKED = /^upload: context walked/;
const HASHED = /^upload: \d+ entries hashed/;
const SENT = /^upload: \d+ files sent/;

/** A worker's fetch of a step's inputs that downloaded 1,000 blobs or more: from its start to its end. */
function bulkFetch(text: string): number | undefined {
  const lines = traceLines(text);
  const end = lines.findIndex((l) => /^worker: inputs fetched \(\d{4,} downloaded\)/.test(l.label));
  const start = lines.slice(0, Math.max(end, 0)).reverse().find((l) => l.label === 'worker: fetching inputs');
  return end >= 0 && start ? lines[end]!.ms - start.ms : undefined;
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

/**
 * Where worker B and a plain download client run. On loopback both ends of every transfer share this
 * machine's two cores, so a transfer is bound by CPU, and any work the receiver adds shows in full.
 * Behind a link, B is a machine of its own on the farm's network: a network namespace joined by a veth
 * pair whose coordinator-to-worker direction is limited to `rate` (tc tbf), as a NIC would be.
 */
interface Place {
  name: string;
  /** The coordinator's --listen address: where B reaches it. */
  listen: string;
  /** Runs a command where B is. */
  wrap: string[];
  close(): void;
}

const loopback: Place = { name: 'loopback', listen: '127.0.0.1:0', wrap: [], close: () => undefined };

function sh(cmd: string[]): void {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
}

function link(rate: string): Place {
  const ns = `dockyard-bench-${process.pid}`;
  const [host, peer] = [`dyb${process.pid}h`, `dyb${process.pid}p`];
  const inNs = ['ip', 'netns', 'exec', ns];
  // Into the network namespace only: `ip netns exec` also remounts /sys, which hides the cgroups runc needs.
  const wrap = ['nsenter', `--net=/run/netns/${ns}`];
  try {
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
    sh(['ip', 'link', 'set', peer, 'netns', ns]);
    sh(['ip', 'addr', 'add', '10.231.0.1/30', 'dev', host]);
    sh(['ip', 'link', 'set', host, 'up']);
    sh([...inNs, 'ip', 'addr', 'add', '10.231.0.2/30', 'dev', peer]);
    sh([...inNs, 'ip', 'link', 'set', peer, 'up']);
    sh([...inNs, 'ip', 'link', 'set', 'lo', 'up']);
    // Both directions, each limited where it leaves: downloads leave the host end.
    for (const [dev, pre] of [[host, []], [peer, inNs]] as const) sh([...pre, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', '1mb', 'latency', '20ms']);
  } catch (err) {
    spawnSync('ip', ['netns', 'del', ns]);
    throw err;
  }
  return { name: `${rate}/s link`, listen: '10.231.0.1:0', wrap, close: () => void spawnSync('ip', ['netns', 'del', ns]) };
}

interface Downloads {
  /** The bytes received and digest-checked, then dropped. */
  dropped: number;
  /** The same into a file, as any download keeps them (no sync). */
  kept: number;
}

/** The downloads `downloadMode` makes: one to warm up, one dropped, one into a file. */
const DOWNLOADS_PER_RUN = 3;

/** `--download ADDRESS DIGEST DIR`: this file's other mode, run where B is; prints one `Downloads` as JSON. */
async function downloadMode(address: string, digest: Digest, dir: string): Promise<void> {
  const client = new ContentBlobStore(address, {}, { scratchDir: dir });
  // Connected and warmed up first, as B is by its warm-up build.
  for await (const _ of client.stream(digest));
  let t0 = process.hrtime.bigint();
  for await (const _ of client.stream(digest));
  const dropped = Number(process.hrtime.bigint() - t0) / 1e6;
  const file = join(dir, `download-${process.pid}`);
  t0 = process.hrtime.bigint();
  await pipeline(client.stream(digest), createWriteStream(file));
  const kept = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(file);
  client.close();
  console.log(JSON.stringify({ dropped, kept } satisfies Downloads));
}

/** Seconds the coordinator has spent on built steps so far, from its Prometheus metrics. */
async function builtSeconds(metrics: string): Promise<number> {
  const text = await (await fetch(`http://${metrics}/metrics`)).text();
  return Number(/^dockyard_step_duration_seconds_sum\{outcome="built"\} (\S+)$/m.exec(text)?.[1] ?? 0);
}

/** How long the one step `build` runs took, in ms, as the coordinator timed it: from its dispatch to its result. */
async function builtStep(metrics: string, build: () => void): Promise<number> {
  const before = await builtSeconds(metrics);
  build();
  return (await builtSeconds(metrics) - before) * 1000;
}

/** B's fetch of the layer in its cold step, from its trace: first byte to last, and the unpack after the last. */
interface TracedFetch {
  transfer: number;
  tail: number;
}

/**
 * The fetch of `digest` in worker B's DOCKYARD_TRACE lines after offset `from`, once its step has its
 * inputs. Lines of the build before may still arrive after `from`: each is looked for after the last.
 */
async function tracedFetch(b: FarmProcess, from: number, digest: Digest): Promise<TracedFetch> {
  const short = digest.slice(7, 19);
  // The lines are written before the step's result, but may reach this process after it.
  for (let i = 0; i < 100; i++) {
    const stamps: number[] = [];
    let lines = traceLines(b.stderr().slice(from));
    for (const label of [`content: download ${short} from 0`, `content: last byte of ${short}`, 'worker: inputs fetched']) {
      const at = lines.findIndex((l) => l.label.startsWith(label));
      if (at < 0) break;
      stamps.push(lines[at]!.ms);
      lines = lines.slice(at + 1);
    }
    if (stamps.length === 3) return { transfer: stamps[1]! - stamps[0]!, tail: stamps[2]! - stamps[1]! };
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no traced fetch of ${digest} in worker B's output`);
}

/** A process's CPU time so far (user and system, all its threads), in ms, from /proc. */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/** One fresh worker B's figures: what its step and its fetch cost, and the plain downloads from the same place. */
interface HitRun {
  /** The cold step's time minus the warm step's, as the coordinator times steps. */
  hit: number;
  fetch: TracedFetch;
  /** B's CPU in the cold build minus its CPU in the warm one. */
  fetchCpu: number;
  downloads: Downloads;
  /** The coordinator's CPU per plain download. */
  serveCpu: number;
}

/**
 * A 30 MB layer built on worker A, then one more step on top of it placed on a fresh worker B where
 * `place` says, whose cache is empty, so B must fetch the layer first: that step's time minus the same
 * step's once B has the layer (the step as the coordinator times it, so that the client's start-up and
 * the rest of the build add no noise). Against downloading the layer from the same Content service,
 * from where B is, in a process started with the Node options a worker has.
 */
async function crossWorkerHit(redisUrl: string, work: string, place: Place): Promise<HitRun[]> {
  const dir = join(work, 'layers');
  const warmDir = join(work, 'warm-b');
  mkdirSync(dir, { recursive: true });
  mkdirSync(warmDir, { recursive: true });
  const base = ['FROM busybox', 'RUN head -c 30000000 /dev/urandom > /payload && sha256sum /payload > /payload.sum'];
  // Another layer of the same size, which each fresh B fetches before the one measured.
  const warmBase = ['FROM busybox', 'RUN head -c 30000000 /dev/urandom > /warm'];
  writeFileSync(join(dir, 'Dockerfile'), base.join('\n') + '\n');
  const store = join(work, `store-hit-${place.name.replace(/[^a-z0-9]+/gi, '-')}`);
  const coordinator = await startCoordinator(redisUrl, ['--store', store, '--metrics', '127.0.0.1:0'], {}, place.listen);
  try {
    const metrics = /"metrics":"([^"]+)"/.exec(coordinator.stderr())![1]!;
    const a = await startWorker(coordinator.address, ['--slots', '1']);
    timeBuild(coordinator.address, dir, []);
    // The layer measured: the store's only large blob so far (the base's layer is small).
    const hex = spawnSync('find', [join(store, 'blobs', 'sha256'), '-type', 'f', '-size', '+10M', '-printf', '%f\n'], { encoding: 'utf8' }).stdout.trim();
    const digest = `sha256:${hex}` as Digest;
    writeFileSync(join(warmDir, 'Dockerfile'), warmBase.join('\n') + '\n');
    timeBuild(coordinator.address, warmDir, []);
    await a.stop();
    writeFileSync(join(dir, 'Dockerfile'), [...base, 'ARG N', 'RUN echo $N > /n'].join('\n') + '\n');
    const runs: HitRun[] = [];
    for (let run = 0; run < RUNS; run++) {
      // A fresh worker B with an empty cache, warmed up by a step on A's other large layer (its process,
      // runc, the base layer, and a fetch of the same size, as the plain download's client is warmed up
      // by a download): the difference below is then the fetch and unpack of the layer measured, with
      // the code that does it already compiled, as in a worker that has run for a while.
      const b = await startWorker(coordinator.address, ['--slots', '1'], { DOCKYARD_TRACE: '1' }, place.wrap);
      writeFileSync(join(warmDir, 'Dockerfile'), [...warmBase, `RUN echo ${run}-${Date.now()} > /w`].join('\n') + '\n');
      timeBuild(coordinator.address, warmDir, []);
      const traced = b.stderr().length;
      const bCpu = (): number => processCpuMs(b.child.pid!);
      let c0 = bCpu();
      const cold = await builtStep(metrics, () => timeBuild(coordinator.address, dir, ['--build-arg', `N=${run}-a`]));
      const coldCpu = bCpu() - c0;
      const fetch = await tracedFetch(b, traced, digest);
      c0 = bCpu();
      const warm = await builtStep(metrics, () => timeBuild(coordinator.address, dir, ['--build-arg', `N=${run}-b`]));
      const warmCpu = bCpu() - c0;
      await b.stop();
      const s0 = processCpuMs(coordinator.child.pid!);
      const argv = [...place.wrap, process.execPath, ...workerNodeOptions(), fileURLToPath(import.meta.url), '--download', coordinator.address, digest, work];
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`download failed: ${r.stderr}`);
      const serveCpu = (processCpuMs(coordinator.child.pid!) - s0) / DOWNLOADS_PER_RUN;
      runs.push({ hit: cold - warm, fetch, fetchCpu: coldCpu - warmCpu, downloads: JSON.parse(r.stdout) as Downloads, serveCpu });
    }
    return runs;
  } finally {
    await coordinator.stop();
  }
}

async function crossWorker(redisUrl: string, work: string): Promise<void> {
  const rate = process.env.BENCH_LINK_RATE ?? '1gbit';
  const rows: string[] = [];
  const fetchRows: string[] = [];
  const ms = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
  for (const make of [() => loopback, () => link(rate)]) {
    const place = make();
    try {
      const runs = await crossWorkerHit(redisUrl, work, place);
      const hits = runs.map((r) => r.hit);
      const dropped = runs.map((r) => r.downloads.dropped);
      const hit = median(hits);
      const kept = median(runs.map((r) => r.downloads.kept));
      rows.push(`| ${place.name} | ${hit.toFixed(0)} ms (${ms(hits)}) | ${median(dropped).toFixed(0)} ms (${ms(dropped)}) | ${kept.toFixed(0)} ms | ${(hit / median(dropped)).toFixed(2)} | ${(hit / kept).toFixed(2)} |`);
      const transfers = runs.map((r) => r.fetch.transfer);
      const tails = runs.map((r) => r.fetch.tail);
      fetchRows.push(`| ${place.name} | ${median(transfers).toFixed(0)} ms (${ms(transfers)}) | ${median(dropped).toFixed(0)} ms | ${median(tails).toFixed(0)} ms (${ms(tails)}) | ${median(runs.map((r) => r.fetchCpu)).toFixed(0)} ms | ${median(runs.map((r) => r.serveCpu)).toFixed(0)} ms |`);
    } finally {
      place.close();
    }
  }
  console.log(`\nCross-worker cache hit (a 30 MB layer built on worker A, needed by a fresh worker B; medians of ${RUNS})`);
  console.log("| B's place | the hit's cost on B: the step with the layer fetched, minus the same step once B has it | downloading the layer from Content, bytes dropped | the same into a file | hit / download dropped | hit / download into a file |");
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
  console.log(`\nB's fetch in the hit (DOCKYARD_TRACE: content download, last byte, inputs fetched; CPU from /proc; medians of ${RUNS})`);
  console.log("| B's place | first byte to last | a plain download | unpacking what was buffered at the last byte | B's CPU: cold build minus warm build | the coordinator's CPU per plain download |");
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of fetchRows) console.log(row);
}

/**
 * The project benchmark's tree (3,222 context entries) built on the farm: the first build uploads the
 * context and runs every step; a rebuild uploads nothing and runs none. The first build's upload
 * (client) and the worker's fetch of `COPY src/`'s files are read from their DOCKYARD_TRACE lines.
 */
async function project(redisUrl: string, work: string): Promise<void> {
  const dir = join(work, 'project');
  makeProject(dir);
  const coordinator = await startCoordinator(redisUrl, ['--store', join(work, 'store-project')]);
  const worker = await startWorker(coordinator.address, ['--slots', '2'], { DOCKYARD_TRACE: '1' });
  try {
    // Each timed build starts after a sync, as in the project benchmark: none pays for the writes of the one before.
    spawnSync('sync');
    const cold = timeBuild(coordinator.address, dir, [], { DOCKYARD_TRACE: '1' });
    const upload = tracedBetween(cold.stderr, HASHED, SENT);
    // The step with the context's files: the only fetch of thousands of blobs. Its lines may reach this process after the build.
    let fetch: number | undefined;
    for (let i = 0; i < 100 && (fetch = bulkFetch(worker.stderr())) === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    const noop: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      spawnSync('sync');
      noop.push(timeBuild(coordinator.address, dir, []).ms);
    }
    // One more no-op, traced (not timed): how long the client takes to hash its context's files.
    const hashing = tracedBetween(timeBuild(coordinator.address, dir, [], { DOCKYARD_TRACE: '1' }).stderr, WALKED, HASHED);
    console.log(`\nThe project benchmark's tree on the farm (one worker of 2 slots; no-op: median of ${RUNS})`);
    console.log('| build | time |');
    console.log('| --- | --- |');
    console.log(`| first: the context uploaded, every step run | ${(cold.ms / 1000).toFixed(2)} s |`);
    console.log(`| in it, the client's upload of the files the store lacked | ${((upload ?? NaN) / 1000).toFixed(2)} s |`);
    console.log(`| in it, the worker's fetch of the files of \`COPY src/\` | ${((fetch ?? NaN) / 1000).toFixed(2)} s |`);
    console.log(`| no-op rebuild | ${(median(noop) / 1000).toFixed(2)} s (${noop.map((x) => (x / 1000).toFixed(2)).join(', ')}) |`);
    console.log(`| in a no-op, the client's hashing of its context's files | ${(hashing ?? NaN).toFixed(0)} ms |`);
  } finally {
    await worker.stop();
    await coordinator.stop();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dockyard-bench-farm-'));
  const redis = await startRedis();
  try {
    // BENCH_ONLY=scaling, hit or project runs one part.
    const only = process.env.BENCH_ONLY;
    if (only === undefined || only === 'scaling') await scaling(redis.url, work);
    if (only === undefined || only === 'hit') await crossWorker(redis.url, work);
    if (only === undefined || only === 'project') await project(redis.url, work);
  } finally {
    await redis.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const [mode, address, digest, dir] = process.argv.slice(2);
(mode === '--download' ? downloadMode(address!, digest as Digest, dir!) : main()).catch((err: unknown) => {
  console.error(err);
  // Exiting kills the coordinators and workers still running (test/farm-helpers.ts), which would otherwise keep this process alive.
  process.exit(1);
});
