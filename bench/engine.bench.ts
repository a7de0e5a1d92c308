/**
 * Dockyard against BuildKit (Debian's docker.io 20.10) and buildah on the same Dockerfile, in one
 * run: cold build, no-op rebuild, rebuild after editing one source file. Then layer export
 * throughput of a 500 MB layer against single-threaded gzip. Prints medians and ratios.
 * Needs root and `bash bench/setup-peers.sh`. Run: `npm run bench:engine`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { writeLayer } from '../worker/layers/layer-writer.js';
import { commandPath, repoRoot as repo } from '../test/helpers.js';
import { baseCacheTemplate, Buildah, Dockerd, have } from './peers.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const busyboxDir = process.env.DOCKYARD_BUSYBOX_DIR ?? '/var/lib/dockyard/busybox';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (fn: () => void): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

function dockyard(args: string[]): void {
  const r = spawnSync(commandPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dockyard ${args.join(' ')} failed: ${r.stderr}`);
}

function makeProject(dir: string): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(
    join(dir, 'Dockerfile'),
    [
      'FROM busybox',
      'WORKDIR /app',
      'COPY deps.txt ./',
      'RUN for i in $(seq 1 500); do echo "dependency $i" >> deps.lock; done && head -c 15000000 /dev/urandom | base64 > vendor.bin',
      'COPY src/ ./src/',
      'RUN cat src/*.txt | wc -l > lines && find src -type f | sort > manifest',
      'CMD ["cat", "/app/lines"]',
    ].join('\n') + '\n',
  );
  writeFileSync(join(dir, 'deps.txt'), 'deps\n');
  for (let i = 0; i < 300; i++) writeFileSync(join(dir, 'src', `file${i}.txt`), `source ${i}\n`.repeat(50));
}

interface Tool {
  name: string;
  cold(): number;
  rebuild(): number;
}

function results(name: string, t: Tool, project: string): { cold: number; noop: number; incr: number } {
  const cold: number[] = [];
  const noop: number[] = [];
  const incr: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    writeFileSync(join(project, 'src', 'file7.txt'), `source 7, round ${i}\n`);
    cold.push(t.cold());
    noop.push(t.rebuild());
    writeFileSync(join(project, 'src', 'file7.txt'), `source 7, round ${i}, edited\n`);
    incr.push(t.rebuild());
  }
  const r = { cold: median(cold), noop: median(noop), incr: median(incr) };
  console.log(`  ${name.padEnd(9)} cold ${r.cold.toFixed(0).padStart(6)} ms   no-op ${r.noop.toFixed(0).padStart(5)} ms   one edit ${r.incr.toFixed(0).padStart(6)} ms`);
  return r;
}

async function buildBench(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dockyard-bench-'));
  const project = join(work, 'project');
  makeProject(project);
  const cacheBase = join(work, 'dockyard-cache');
  const busyboxTar = join(work, 'busybox.tar');
  const busyboxLayout = join(work, 'busybox-layout');
  dockyard(['build', '--progress', 'quiet', '--cache-dir', join(work, 'base-cache'), '--build-context', `busybox-bin=${busyboxDir}`, '-t', 'busybox:latest', '-o', `type=docker,dest=${busyboxTar}`, '-o', `type=oci,dest=${busyboxLayout},tar=false`, join(repo, 'examples', 'busybox')]);

  const dockerd = new Dockerd(join(work, 'dockerd'));
  await dockerd.start();
  try {
    dockerd.docker(['load', '-i', busyboxTar]);
    const buildah = new Buildah(join(work, 'buildah'));
    buildah.load(busyboxTar);

    const template = baseCacheTemplate(dockyard, work, busyboxLayout);
    let n = 0;
    let cache = '';
    const freshFromTemplate = (): string => {
      const dir = `${cacheBase}-${n++}`;
      spawnSync('cp', ['-a', template, dir]);
      return dir;
    };
    const dy = (): void =>
      dockyard(['build', '--progress', 'quiet', '--cache-dir', cache, '--build-context', `busybox=oci-layout://${busyboxLayout}`, '-t', 'bench:latest', '-o', `type=oci,dest=${join(work, 'out')},tar=false`, project]);
    const tools: Tool[] = [
      { name: 'dockyard', cold: () => ((cache = freshFromTemplate()), time(dy)), rebuild: () => time(dy) },
      { name: 'buildkit', cold: () => (dockerd.reset('bench:latest'), time(() => dockerd.build(project, 'bench:latest'))), rebuild: () => time(() => dockerd.build(project, 'bench:latest')) },
      { name: 'buildah', cold: () => (buildah.reset('busybox'), time(() => buildah.build(project, 'bench:latest'))), rebuild: () => time(() => buildah.build(project, 'bench:latest')) },
    ];
    console.log(`build: 3 layers (15 MB random base64, 300 small files), medians of ${RUNS} runs`);
    const r = Object.fromEntries(tools.map((t) => [t.name, results(t.name, t, project)]));
    const ratio = (a: number, b: number): string => (a / b).toFixed(2);
    for (const peer of ['buildkit', 'buildah']) {
      console.log(`  dockyard/${peer} time ratio: cold ${ratio(r.dockyard!.cold, r[peer]!.cold)}, no-op ${ratio(r.dockyard!.noop, r[peer]!.noop)}, one edit ${ratio(r.dockyard!.incr, r[peer]!.incr)} (below 1 = dockyard faster)`);
    }
  } finally {
    dockerd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** A 500 MB layer: half incompressible-ish base64, half text, in 500 files. */
function makeLayerDir(dir: string): number {
  let bytes = 0;
  for (let i = 0; i < 500; i++) {
    const size = 1_000_000;
    const data = i % 2 === 0 ? spawnSync('sh', ['-c', `head -c ${(size * 3) / 4} /dev/urandom | base64 -w 100`], { maxBuffer: 1 << 24 }).stdout : Buffer.from(`line ${i} of a text file with some repetition\n`.repeat(size / 40));
    writeFileSync(join(dir, `f${i}`), data);
    bytes += data.length;
  }
  return bytes;
}

async function exportBench(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dockyard-export-'));
  try {
    const dir = join(work, 'layer');
    mkdirSync(dir);
    const bytes = makeLayerDir(dir);
    const store = new FsBlobStore(join(work, 'store'));
    const ours: number[] = [];
    const single: number[] = [];
    const runs = Math.max(3, Math.min(RUNS, 5));
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      await writeLayer(dir, store);
      ours.push(Number(process.hrtime.bigint() - t0) / 1e6);
      single.push(time(() => spawnSync('sh', ['-c', `tar -C ${dir} -cf - . | gzip -6 > ${join(work, 'single.tgz')}`])));
    }
    const mbps = (ms: number): string => ((bytes / 1e6) / (ms / 1000)).toFixed(0);
    console.log(`export: ${(bytes / 1e6).toFixed(0)} MB layer, medians of ${runs} runs`);
    console.log(`  dockyard (tar + gzip on ${require_cores()} threads) ${median(ours).toFixed(0)} ms, ${mbps(median(ours))} MB/s`);
    console.log(`  tar | gzip -6 (one thread)      ${median(single).toFixed(0)} ms, ${mbps(median(single))} MB/s`);
    console.log(`  speedup over single-threaded gzip: ${(median(single) / median(ours)).toFixed(2)}x`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function require_cores(): number {
  return Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim());
}

for (const tool of ['dockerd', '/usr/bin/docker', 'buildah']) {
  if (!have(tool)) throw new Error(`${tool} is missing: run sudo bash bench/setup-peers.sh`);
}
await buildBench();
if (!process.env.BENCH_SKIP_EXPORT) await exportBench();
