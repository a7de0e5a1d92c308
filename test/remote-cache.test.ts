import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxLayout, freshCache, stepStates } from './engine-helpers.js';
import { spawn } from 'node:child_process';
import { cliPath, makeDir, runCli, tempDir, type CliResult } from './helpers.js';
import { startCoordinator, startWorker } from './farm-helpers.js';
import { startRedis } from './redis-helpers.js';
import { startFaultyProxy, startRegistry, type FaultyProxy, type TestRegistry } from './registry-helpers.js';

/** A builder stage whose big layer the final image does not carry, and a final stage of three steps. */
const project = (app = 'app v1\n'): Record<string, string> => ({
  'app.txt': app,
  Dockerfile: ['FROM busybox AS builder', 'RUN seq 1 40000 > /big && echo built > /artifact', 'FROM busybox', 'COPY app.txt /app.txt', 'COPY --from=builder /artifact /artifact', 'RUN cat /app.txt /artifact > /both'].join('\n'),
});

const EPOCH = ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'];

interface Built extends CliResult {
  digest: string;
  layout: string;
  ran: string[];
  cached: string[];
}

/** One build on the busybox base into an OCI layout; the digest is the CLI's last stdout line. */
function build(dir: string, extra: string[], cache = freshCache()): Built {
  const layout = join(tempDir('out'), 'layout');
  const r = runCli(['build', '--progress', 'plain', '--cache-dir', cache, '--build-context', `busybox=oci-layout://${busyboxLayout()}`, ...EPOCH, '-o', `type=oci,dest=${layout},tar=false`, ...extra, dir]);
  assert.equal(r.status, 0, r.stderr);
  return { ...r, digest: r.stdout.trim().split('\n').at(-1)!, layout, ...stepStates(r.stderr) };
}

const json = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
interface Manifest {
  config: { digest: string; mediaType: string };
  layers: { digest: string }[];
}

/** The layer digests of a single-platform image in an OCI layout. */
function imageLayers(layout: string): string[] {
  const top = json<{ manifests: { digest: string }[] }>(join(layout, 'index.json')).manifests[0]!;
  return json<Manifest>(join(layout, 'blobs', 'sha256', top.digest.slice(7))).layers.map((l) => l.digest);
}

/** Blob digests fetched with GET through the proxy since `from` requests were logged. */
async function blobGets(proxy: FaultyProxy, from: number): Promise<string[]> {
  return (await proxy.log())
    .slice(from)
    .map((l) => /^GET \/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(l)?.[1])
    .filter((d): d is string => d !== undefined);
}

async function registryJson<T>(host: string, repo: string, ref: string, kind: 'manifests' | 'blobs'): Promise<T> {
  const accept = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';
  const res = await fetch(`http://${host}/v2/${repo}/${kind}/${ref}`, { headers: { accept } });
  assert.equal(res.status, 200, `${repo} ${kind} ${ref}`);
  return (await res.json()) as T;
}

interface CacheIndex {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

/** Every layer a registry cache at `repo:tag` names, over all its manifests. */
async function cacheLayers(host: string, repo: string, tag: string): Promise<string[]> {
  const index = await registryJson<CacheIndex>(host, repo, tag, 'manifests');
  const out: string[] = [];
  for (const m of index.manifests) out.push(...(await registryJson<Manifest>(host, repo, m.digest, 'manifests')).layers.map((l) => l.digest));
  return out;
}

const blobsIn = (cache: string): Set<string> => new Set(readdirSync(join(cache, 'blobs', 'sha256')).map((h) => `sha256:${h}`));

describe('build caches across runs (--cache-from, --cache-to)', () => {
  let registry: TestRegistry;
  let proxy: FaultyProxy;

  before(async () => {
    busyboxLayout();
    registry = await startRegistry();
    // A pass-through proxy (no faults) that logs every request: which blobs an import fetched.
    proxy = await startFaultyProxy(registry.host, 1, 0);
  });
  after(() => registry?.stop());

  it('mode=max: a fresh cache imports it, runs no step and fetches only the layers of the output', async () => {
    const dir = makeDir(project());
    const ref = `${proxy.host}/cache/max:1`;
    const cold = build(dir, ['--cache-to', `type=registry,ref=${ref},mode=max`]);
    assert.ok(cold.ran.length >= 4, cold.stderr);
    const all = await cacheLayers(registry.host, 'cache/max', '1');
    const output = imageLayers(cold.layout);
    const builderOnly = all.filter((d) => !output.includes(d));
    assert.ok(builderOnly.length > 0, 'mode=max carries the builder stage layer');

    const mark = (await proxy.log()).length;
    const cache = freshCache();
    const warm = build(dir, ['--cache-from', `type=registry,ref=${ref}`], cache);
    assert.deepEqual(warm.ran, [], warm.stderr);
    assert.ok(warm.cached.some((s) => s.includes('RUN cat')), warm.stderr);
    assert.equal(warm.digest, cold.digest);
    const got = await blobGets(proxy, mark);
    // Each output layer once, the builder stage's never; the one other blob is the records document.
    for (const d of output) assert.equal(got.filter((g) => g === d).length, 1, `layer ${d} fetched once`);
    for (const d of builderOnly) assert.ok(!got.includes(d), `builder layer ${d} not fetched`);
    assert.equal(got.length, output.length + 1, got.join('\n'));
    const local = blobsIn(cache);
    for (const d of builderOnly) assert.ok(!local.has(d), `builder layer ${d} not in the fresh cache`);

    // What was imported is an ordinary part of the cache: every record's blobs present and sound.
    const verify = runCli(['du', '--verify', '--cache-dir', cache]);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    // The fetched records joined the local index: a second build on that cache needs no import.
    const again = build(dir, [], cache);
    assert.deepEqual(again.ran, [], again.stderr);
    assert.equal(again.digest, cold.digest);
  });

  it('mode=min carries the final image only: a change in the final stage then rebuilds the builder stage, mode=max does not', async () => {
    const dir = makeDir(project());
    const min = `${proxy.host}/cache/min:1`;
    const max = `${proxy.host}/cache/min:max`;
    const cold = build(dir, ['--cache-to', `type=registry,ref=${min}`, '--cache-to', `type=registry,ref=${max},mode=max`]);
    const output = imageLayers(cold.layout);
    assert.deepEqual((await cacheLayers(registry.host, 'cache/min', '1')).sort(), [...output].sort());

    const warm = build(dir, ['--cache-from', min]);
    assert.deepEqual(warm.ran, [], 'the final stage is cached; the builder stage is not needed');
    assert.equal(warm.digest, cold.digest);

    writeFileSync(join(dir, 'app.txt'), 'app v2\n');
    const changedMin = build(dir, ['--cache-from', `type=registry,ref=${min}`]);
    assert.ok(changedMin.ran.some((s) => s.includes('RUN seq')), changedMin.stderr);
    const changedMax = build(dir, ['--cache-from', `type=registry,ref=${max}`]);
    assert.ok(!changedMax.ran.some((s) => s.includes('RUN seq')), changedMax.stderr);
    assert.ok(changedMax.ran.some((s) => s.includes('COPY app.txt')), changedMax.stderr);
    assert.equal(changedMax.digest, changedMin.digest);
  });

  it('type=local writes an OCI layout that a fresh cache imports without running a step', () => {
    const dir = makeDir(project());
    // A comma in the path: the value is CSV, quoted as buildx reads it.
    const dest = join(tempDir('local-cache'), 'cache,v1');
    const cold = build(dir, ['--cache-to', `type=local,"dest=${dest}",mode=max`]);
    assert.ok(existsSync(join(dest, 'oci-layout')));
    const index = json<CacheIndex>(join(dest, 'index.json'));
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0]!.annotations?.['dev.dockyard.cache.platforms'], 'linux/amd64');
    const warm = build(dir, ['--cache-from', `type=local,"src=${dest}"`]);
    assert.deepEqual(warm.ran, []);
    assert.equal(warm.digest, cold.digest);
    // Exporting again from the warm build replaces its own entry instead of adding one.
    build(dir, ['--cache-from', `type=local,"src=${dest}"`, '--cache-to', `type=local,"dest=${dest}",mode=max`]);
    assert.equal(json<CacheIndex>(join(dest, 'index.json')).manifests.length, 1);
  });

  it('type=inline: the pushed image carries the records, and importing the image warms a fresh cache', async () => {
    const dir = makeDir(project());
    const image = `${proxy.host}/inline/app:1`;
    const cold = build(dir, ['--cache-to', 'type=inline', '-t', image, '--push']);
    const manifest = await registryJson<Manifest>(registry.host, 'inline/app', '1', 'manifests');
    const config = await registryJson<Record<string, { records: { key: string }[] }>>(registry.host, 'inline/app', manifest.config.digest, 'blobs');
    assert.ok((config['dev.dockyard.cache.v0']?.records.length ?? 0) >= 4, JSON.stringify(config));
    const warm = build(dir, ['--cache-from', image]);
    assert.deepEqual(warm.ran, []);
    assert.deepEqual(imageLayers(warm.layout), imageLayers(cold.layout));
  });

  it('two platforms exporting to one ref keep both (docker/buildx#1044)', async () => {
    const dir = makeDir({ Dockerfile: 'FROM busybox\nRUN uname -m > /arch\n' });
    const ref = `${proxy.host}/cache/multi:1`;
    build(dir, ['--platform', 'linux/amd64', '--cache-to', `type=registry,ref=${ref},mode=max`]);
    build(dir, ['--platform', 'linux/arm64', '--cache-to', `type=registry,ref=${ref},mode=max`]);
    const index = await registryJson<CacheIndex>(registry.host, 'cache/multi', '1', 'manifests');
    assert.deepEqual(index.manifests.map((m) => m.annotations?.['dev.dockyard.cache.platforms']).sort(), ['linux/amd64', 'linux/arm64']);
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const warm = build(dir, ['--platform', platform, '--cache-from', ref]);
      assert.deepEqual(warm.ran, [], `${platform}: ${warm.stderr}`);
    }
    // Exporting amd64 again replaces only amd64's entry.
    build(dir, ['--platform', 'linux/amd64', '--cache-to', `type=registry,ref=${ref},mode=max`]);
    assert.equal((await registryJson<CacheIndex>(registry.host, 'cache/multi', '1', 'manifests')).manifests.length, 2);
  });

  it('two platforms exporting to one ref at the same moment both survive', async () => {
    const dir = makeDir({ Dockerfile: 'FROM busybox\nRUN uname -m > /arch\n' });
    const ref = `${proxy.host}/cache/race:1`;
    // Warm local caches first, so that both exports start at about the same time.
    const caches = { 'linux/amd64': freshCache(), 'linux/arm64': freshCache() };
    for (const [platform, cache] of Object.entries(caches)) build(dir, ['--platform', platform], cache);
    const exports = Object.entries(caches).map(
      ([platform, cache]) =>
        new Promise<number | null>((resolve) => {
          const args = ['build', '--progress', 'quiet', '--cache-dir', cache, '--build-context', `busybox=oci-layout://${busyboxLayout()}`, '--platform', platform, '--cache-to', `type=registry,ref=${ref},mode=max`, dir];
          spawn(process.execPath, [cliPath, ...args], { stdio: 'ignore' }).on('exit', resolve);
        }),
    );
    assert.deepEqual(await Promise.all(exports), [0, 0]);
    const index = await registryJson<CacheIndex>(registry.host, 'cache/race', '1', 'manifests');
    assert.deepEqual(index.manifests.map((m) => m.annotations?.['dev.dockyard.cache.platforms']).sort(), ['linux/amd64', 'linux/arm64']);
  });

  it('a missing or corrupt blob in the imported cache is a warning and a rebuilt step, with the same image', async () => {
    const dir = makeDir(project());
    const ref = `${proxy.host}/cache/broken:1`;
    const cold = build(dir, ['--cache-to', `type=registry,ref=${ref},mode=max`]);
    const output = imageLayers(cold.layout);
    // The final stage's own layers: COPY app.txt, COPY --from, RUN cat (after the base layer).
    const [copied, , ran] = output.slice(-3) as [string, string, string];
    const v2 = join(registry.dir, 'data', 'docker', 'registry', 'v2');
    rmSync(join(v2, 'repositories', 'cache', 'broken', '_layers', 'sha256', copied.slice(7)), { recursive: true });
    const data = join(v2, 'blobs', 'sha256', ran.slice(7, 9), ran.slice(7), 'data');
    writeFileSync(data, Buffer.alloc(readFileSync(data).length, 0x41));

    const warm = build(dir, ['--cache-from', `type=registry,ref=${ref}`]);
    assert.equal(warm.digest, cold.digest);
    assert.match(warm.stderr, new RegExp(`WARNING: .*layer ${copied}.*not found.*COPY app.txt /app.txt runs instead`));
    assert.match(warm.stderr, new RegExp(`WARNING: .*layer ${ran}.*does not match its digest.*RUN cat .* runs instead`));
    assert.deepEqual(warm.ran.sort(), ['[stage-1 2/4] COPY app.txt /app.txt', '[stage-1 4/4] RUN cat /app.txt /artifact > /both']);
  });

  it('an import that cannot be read is a warning, and the build runs', () => {
    const dir = makeDir(project());
    const r = build(dir, ['--cache-from', `type=registry,ref=${proxy.host}/cache/none:1`, '--cache-from', `type=local,src=${tempDir('empty')}`]);
    assert.match(r.stderr, /WARNING: cache import from registry .*cache\/none:1 skipped: not found/);
    assert.match(r.stderr, /WARNING: cache import from local .* skipped: not an OCI layout/);
  });

  it('imports into one cache beside a prune loop: every build succeeds with the same image, and the cache verifies', async () => {
    const dir = makeDir(project());
    const ref = `${proxy.host}/cache/pruned:1`;
    const cold = build(dir, ['--cache-to', `type=registry,ref=${ref},mode=max`]);
    const cache = freshCache();
    // Imported records and layers are leased like built ones: a prune never takes them from a build using them.
    const env = { ...process.env, DOCKYARD_DEBUG: '', DOCKYARD_CACHE_MAX_SIZE: '1MB', DOCKYARD_GC_GRACE: '0s' };
    const run = (args: string[]): Promise<CliResult> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('close', (status) => resolve({ status, stdout, stderr }));
      });
    let pruning = true;
    const prunes = (async () => {
      for (let i = 0; pruning; i++) {
        const r = await run(['prune', '--cache-dir', cache, ...(i % 2 ? ['--all'] : ['--keep-storage', '500kB'])]);
        assert.equal(r.status, 0, r.stderr);
      }
    })();
    try {
      for (let round = 0; round < 3; round++) {
        const builds = [0, 1, 2].map(() => run(['build', '--progress', 'plain', '--cache-dir', cache, '--build-context', `busybox=oci-layout://${busyboxLayout()}`, ...EPOCH, '--cache-from', ref, dir]));
        for (const r of await Promise.all(builds)) {
          assert.equal(r.status, 0, r.stderr);
          assert.equal(r.stdout.trim(), cold.digest);
        }
      }
    } finally {
      pruning = false;
      await prunes;
    }
    const verify = runCli(['du', '--verify', '--cache-dir', cache]);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  });

  it('a failed export fails the build naming --cache-to, unless ignore-error=true', async () => {
    const secured = await startRegistry({ basic: { user: 'ci', password: 'hunter2' } });
    try {
      const dir = makeDir(project());
      const ref = `${secured.host}/cache/denied:1`;
      const failed = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '--build-context', `busybox=oci-layout://${busyboxLayout()}`, '--cache-to', `type=registry,ref=${ref}`, dir], { env: { DOCKER_CONFIG: tempDir('no-creds') } });
      assert.equal(failed.status, 1, failed.stderr);
      assert.match(failed.stderr, new RegExp(`^error: --cache-to type=registry ${ref}: .*authentication required`, 'm'));
      const ignored = build(dir, ['--cache-to', `type=registry,ref=${ref},ignore-error=true`]);
      assert.match(ignored.stderr, /WARNING: --cache-to type=registry .*authentication required.* \(ignored: ignore-error=true\)/);
    } finally {
      secured.stop();
    }
  });

  it('a farm build exports with --cache-to type=registry, and a fresh local build importing it runs no step', async () => {
    const redis = await startRedis();
    const coordinator = await startCoordinator(redis.url);
    const worker = await startWorker(coordinator.address);
    try {
      // Content of its own: the registry's storage is shared by repositories, and another test here corrupts blobs in it.
      const dir = makeDir(project('app built on the farm\n'));
      const ref = `${registry.host}/cache/farm:1`;
      const layout = join(tempDir('farm-out'), 'layout');
      const farm = runCli(['build', '--builder', coordinator.address, '--progress', 'quiet', '--build-context', `busybox=oci-layout://${busyboxLayout()}`, ...EPOCH, '-o', `type=oci,dest=${layout},tar=false`, '--cache-to', `type=registry,ref=${ref},mode=max`, dir]);
      assert.equal(farm.status, 0, farm.stderr);
      const warm = build(dir, ['--cache-from', `type=registry,ref=${ref}`]);
      assert.deepEqual(warm.ran, [], warm.stderr);
      assert.equal(warm.digest, farm.stdout.trim());
    } finally {
      await worker.stop();
      await coordinator.stop();
      await redis.stop();
    }
  });

  it('rejects cache flags it cannot honour, naming them', () => {
    const dir = makeDir(project());
    const cases: [string[], RegExp][] = [
      [['--cache-to', 'type=gha'], /unsupported --cache-to type=gha/],
      [['--cache-to', 'type=inline,mode=max'], /--cache-to type=inline supports mode=min only/],
      [['--cache-to', 'type=registry,ref=localhost:5000/c:1,compression=zstd'], /--cache-to type=registry: compression=zstd is not supported/],
      [['--cache-from', 'type=local'], /--cache-from type=local needs src=DIR/],
      [['--cache-to', 'type=registry,ref=localhost:5000/c:1,mode=all'], /invalid --cache-to mode=all/],
      [['--cache-from', 'type=local,src=/tmp/x', '--builder', '127.0.0.1:1'], /--cache-from type=local is not supported with --builder: the farm cannot read this machine's directories/],
      [['--cache-to', 'type=local,dest=/tmp/x', '--builder', '127.0.0.1:1'], /--cache-to type=local is not supported with --builder/],
      [['--cache-to', 'type=local,dest=/tmp/x', '--dry-run'], /--cache-to needs a build/],
    ];
    for (const [flags, message] of cases) {
      const r = runCli(['build', ...flags, dir]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
