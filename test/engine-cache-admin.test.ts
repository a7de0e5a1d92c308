import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { busyboxLayout, buildOci, freshCache, requireTools, stepStates, unpack } from './engine-helpers.js';
import { cliPath, makeDir, runCli } from './helpers.js';

before(() => {
  requireTools();
  busyboxLayout();
});

/** Every cache record points at blobs that exist and match their digests. */
function assertCacheConsistent(cache: string): number {
  const indexDir = join(cache, 'index');
  let records = 0;
  // Killed before the cache was even laid out: nothing to be inconsistent.
  if (!existsSync(indexDir)) return 0;
  for (const name of readdirSync(indexDir)) {
    if (!name.endsWith('.json')) continue;
    const rec = JSON.parse(readFileSync(join(indexDir, name), 'utf8')) as { layers: { digest: string }[] };
    for (const l of rec.layers) {
      const data = readFileSync(join(cache, 'blobs', 'sha256', l.digest.slice(7)));
      assert.equal('sha256:' + createHash('sha256').update(data).digest('hex'), l.digest, `blob ${l.digest} is corrupt`);
    }
    records++;
  }
  return records;
}

describe('du and prune', () => {
  it('a build that runs a step prunes the cache down under DOCKYARD_CACHE_MAX_SIZE; one that runs none leaves it', () => {
    const cache = freshCache();
    const big = { Dockerfile: 'FROM busybox\nRUN head -c 300000 /dev/urandom > /blob\n' };
    const dir = makeDir(big);
    assert.equal(buildOci(big, [], { cache, dir }).status, 0);
    const records = (): string => /\nRecords: (\d+)\n/.exec(runCli(['du', '--cache-dir', cache]).stdout)![1]!;
    const before = records();
    assert.notEqual(before, '0');
    const limited = { DOCKYARD_CACHE_MAX_SIZE: '100kB', DOCKYARD_GC_GRACE: '0s' };
    const noop = buildOci(big, [], { cache, dir, env: limited });
    assert.equal(noop.status, 0, noop.stderr);
    const states = stepStates(noop.stderr);
    assert.ok(states.cached.length > 0);
    assert.deepEqual(states.ran, []);
    assert.equal(records(), before, 'a build that ran no step does not check the limit');
    const other = buildOci({ Dockerfile: 'FROM busybox\nRUN echo other > /other\n' }, [], { cache, env: limited });
    assert.equal(other.status, 0, other.stderr);
    const after = Number(records());
    assert.ok(after <= Number(before), `without the limit there would be ${Number(before) + 1} records, not ${after}`);
    assertCacheConsistent(cache);
  });

  it('show usage and bound the cache', () => {
    const cache = freshCache();
    const files = { Dockerfile: 'FROM busybox\nRUN head -c 300000 /dev/urandom > /blob\nRUN echo small > /small\n' };
    assert.equal(buildOci(files, [], { cache }).status, 0);
    const du = runCli(['du', '--cache-dir', cache]);
    assert.equal(du.status, 0, du.stderr);
    assert.match(du.stdout, /^ID\s+SIZE\s+LAST ACCESSED\n/);
    assert.match(du.stdout, /\nRecords: [3-9]\nBlobs: \d+\nTotal: \d/);
    const pruned = runCli(['prune', '--cache-dir', cache, '--keep-storage', '100k']);
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.match(pruned.stdout, /^Removed [1-9]\d* cache records, [1-9]\d* blobs, \d+ snapshots\nTotal reclaimed space: /);
    assertCacheConsistent(cache);
    const all = runCli(['prune', '--cache-dir', cache, '--all']);
    assert.equal(all.status, 0);
    // The image's config and manifest blobs belong to no record and are new: the grace period spares them.
    assert.match(runCli(['du', '--cache-dir', cache]).stdout, /Records: 0\nBlobs: [1-9]\d*\n/);
    const now = runCli(['prune', '--cache-dir', cache, '--all'], { env: { DOCKYARD_GC_GRACE: '0s' } });
    assert.equal(now.status, 0, now.stderr);
    assert.match(runCli(['du', '--cache-dir', cache]).stdout, /Records: 0\nBlobs: 0\nTotal: 0B\nLeases: 0\n/);
    assert.equal(runCli(['prune', '--cache-dir', cache], { env: { DOCKYARD_GC_GRACE: 'soon' } }).stderr, 'error: DOCKYARD_GC_GRACE: invalid duration "soon": use e.g. 24h, 90m or 7d\n');
    // After everything is gone, a build runs every step again and works.
    const again = buildOci(files, [], { cache });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(stepStates(again.stderr).cached.length, 0);
    assert.ok(unpack(again.layout));
  });

  it('prune --all also forgets the context file hashes and earlier copies it keeps beside the cache', async () => {
    const cache = freshCache();
    const files = { Dockerfile: 'FROM busybox\nCOPY . /app/\n', 'a.txt': 'remembered\n' };
    const dir = makeDir(files);
    // Files changed (ctime) in the last 2 s are not remembered: their stamps could still change unseen.
    await sleep(2100);
    assert.equal(buildOci(files, [], { cache, dir }).status, 0);
    for (const kept of ['context-hashes', 'copy-links']) assert.notDeepEqual(readdirSync(join(cache, kept)), [], `${kept} holds entries after a build`);
    const all = runCli(['prune', '--cache-dir', cache, '--all']);
    assert.equal(all.status, 0, all.stderr);
    for (const kept of ['context-hashes', 'copy-links']) assert.ok(!existsSync(join(cache, kept)), `${kept} is gone after prune --all`);
    // And the next build of the same context still works, remembering again.
    assert.equal(buildOci(files, [], { cache, dir }).status, 0);
  });

  it('rejects bad sizes and durations with one line', () => {
    const r = runCli(['prune', '--keep-storage', 'lots']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'error: invalid size "lots": use a number with an optional unit, e.g. 10GB or 512MiB\n');
    assert.match(runCli(['prune', '--keep-duration', 'soon']).stderr, /^error: invalid duration "soon"/);
  });
});

describe('kill -9 during builds', () => {
  it('leaves a cache that later builds use correctly', async () => {
    const cache = freshCache();
    const busybox = busyboxLayout();
    const dir = makeDir({ Dockerfile: 'FROM busybox\nARG N\nRUN head -c 4000000 /dev/urandom > /a && sleep 0.2\nRUN head -c 4000000 /dev/urandom > /b\nRUN echo $N > /n\n' });
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, [cliPath, 'build', '--progress', 'plain', '--cache-dir', cache, '--build-context', `busybox=oci-layout://${busybox}`, '--build-arg', `N=${round % 2}`, '--no-cache-filter', round % 3 === 0 ? '0' : 'none', dir], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      await sleep(150 + ((round * 137) % 600));
      child.kill('SIGKILL');
      await exited;
      assertCacheConsistent(cache);
    }
    const done = buildOci({}, ['--build-arg', 'N=1'], { cache, dir });
    assert.equal(done.status, 0, done.stderr);
    assert.ok(assertCacheConsistent(cache) >= 4);
    assert.equal(readFileSync(join(unpack(done.layout), 'rootfs/n'), 'utf8'), '1\n');
    // No mount is left behind by the killed builds.
    assert.deepEqual(readdirSync(join(cache, 'mounts')), []);
  });
});
