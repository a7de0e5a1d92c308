/**
 * Caches across runs: a small multi-step project built on a fresh cache directory each time, cold,
 * warm from a registry cache (`--cache-from type=registry`, exported with mode=max), and warm from a
 * local cache (`--cache-from type=local`, as the runner's cache action restores it). Medians of 5 runs.
 * Run: `sudo npm run bench:cache` (needs docker-registry, runc, umoci, skopeo: bash scripts/setup.sh).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxLayout } from '../test/engine-helpers.js';
import { cliPath, tempDir } from '../test/helpers.js';
import { startRegistry } from '../test/registry-helpers.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function project(dir: string): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(
    join(dir, 'Dockerfile'),
    [
      'FROM busybox AS deps',
      'WORKDIR /build',
      'COPY deps.txt ./',
      'RUN for i in $(seq 1 300); do echo "dependency $i" >> deps.lock; done && seq 1 2000000 > vendor.txt',
      'RUN gzip -k vendor.txt && sha256sum vendor.txt.gz > vendor.sum',
      'FROM busybox',
      'WORKDIR /app',
      'COPY --from=deps /build/deps.lock /build/vendor.sum ./',
      'COPY src/ ./src/',
      'RUN cat src/*.txt | wc -l > lines && find src -type f | sort > manifest',
      'CMD ["cat", "/app/lines"]',
    ].join('\n') + '\n',
  );
  writeFileSync(join(dir, 'deps.txt'), 'deps\n');
  for (let i = 0; i < 200; i++) writeFileSync(join(dir, 'src', `file${i}.txt`), `source ${i}\n`.repeat(50));
}

/** One build on a fresh cache directory; milliseconds. */
function build(dir: string, extra: string[]): number {
  const out = join(tempDir('bench-out'), 'layout');
  const args = ['build', '--progress', 'quiet', '--cache-dir', tempDir('bench-cache'), '--build-context', `busybox=oci-layout://${busyboxLayout()}`, '-o', `type=oci,dest=${out},tar=false`, ...extra, dir];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`dockyard ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  busyboxLayout();
  const registry = await startRegistry();
  const dir = tempDir('bench-project');
  project(dir);
  const ref = `${registry.host}/bench/cache:1`;
  const local = join(tempDir('bench-local-cache'), 'cache');
  build(dir, ['--cache-to', `type=registry,ref=${ref},mode=max`, '--cache-to', `type=local,dest=${local},mode=max`]);
  const rows: Record<string, { flags: string[]; ms: number[] }> = {
    cold: { flags: [], ms: [] },
    'warm from registry': { flags: ['--cache-from', `type=registry,ref=${ref}`], ms: [] },
    'warm from local': { flags: ['--cache-from', `type=local,src=${local}`], ms: [] },
  };
  for (let run = 0; run < RUNS; run++) for (const row of Object.values(rows)) row.ms.push(build(dir, row.flags));
  console.log(`caches across runs: 2 stages, 10 steps, fresh cache directory per build, loopback docker-registry, medians of ${RUNS} runs`);
  for (const [name, row] of Object.entries(rows)) console.log(`  ${name.padEnd(20)} ${median(row.ms).toFixed(0)} ms`);
  registry.stop();
  process.exit(0);
}

await main();
