import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { busyboxLayout, freshCache, requireTools, unpack } from './engine-helpers.js';
import { cliPath, makeDir, runCli, tempDir, type CliResult } from './helpers.js';

before(() => {
  requireTools();
  busyboxLayout();
});

/** `dockyard ARGS` as a child process; resolves with its outcome. `kill` ends it with SIGKILL. */
function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { done: Promise<CliResult>; kill(): void } {
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, DOCKYARD_DEBUG: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
  return { done, kill: () => void child.kill('SIGKILL') };
}

function buildArgs(cache: string, dir: string, extra: string[], out?: string): string[] {
  return ['build', '--progress', 'plain', '--cache-dir', cache, '--build-context', `busybox=oci-layout://${busyboxLayout()}`, ...(out ? ['-t', 'test:latest', '-o', `type=oci,dest=${out},tar=false`] : []), ...extra, dir];
}

/** Layers of a few hundred kB each, so that a 3 MB limit prunes in every round. */
const stressDockerfile = [
  'FROM busybox',
  'ARG N',
  'ARG ROUND',
  'RUN head -c 300000 /dev/urandom > /shared-$N',
  'RUN --mount=type=cache,target=/var/cache/x,sharing=locked echo $N >> /var/cache/x/log',
  'COPY data /data',
  'RUN head -c 200000 /dev/urandom > /own-$N-$ROUND && cat /data > /copy',
  'RUN cat /shared-$N /own-$N-$ROUND | wc -c > /size',
].join('\n');

describe('concurrent builds sharing one cache', () => {
  it('4 builds x 10 rounds with a 3 MB limit and a prune loop beside them all succeed, and the cache verifies', async () => {
    const cache = freshCache();
    const dir = makeDir({ Dockerfile: stressDockerfile, data: 'payload\n' });
    const env = { DOCKYARD_CACHE_MAX_SIZE: '3MB', DOCKYARD_GC_GRACE: '0s' };
    let pruning = true;
    const prunes: CliResult[] = [];
    const pruneLoop = (async () => {
      const variants = [[], ['--keep-storage', '1MB'], ['--all'], ['--keep-duration', '1s']];
      for (let i = 0; pruning; i++) prunes.push(await startCli(['prune', '--cache-dir', cache, ...variants[i % variants.length]!], env).done);
    })();
    try {
      for (let round = 0; round < 10; round++) {
        const builds = [0, 1, 2, 3].map((b) => {
          const out = join(tempDir('out'), 'layout');
          return { out, b, run: startCli(buildArgs(cache, dir, ['--build-arg', `N=${b % 2}`, '--build-arg', `ROUND=${round}-${b}`], out), env) };
        });
        for (const { out, b, run } of builds) {
          const r = await run.done;
          assert.equal(r.status, 0, `round ${round}, build ${b} failed:\n${r.stderr}`);
          assert.equal(readFileSync(join(unpack(out), 'rootfs/size'), 'utf8').trim(), '500000');
        }
      }
    } finally {
      pruning = false;
      await pruneLoop;
    }
    assert.ok(prunes.length > 0);
    for (const p of prunes) assert.equal(p.status, 0, p.stderr);
    const du = runCli(['du', '--verify', '--cache-dir', cache]);
    assert.equal(du.status, 0, du.stdout + du.stderr);
    assert.match(du.stdout, /\nVerified \d+ records and \d+ blobs: OK\n$/);
  });

  it('kill -9 of builds at random moments leaves no lease that blocks pruning', async () => {
    const cache = freshCache();
    const dir = makeDir({ Dockerfile: stressDockerfile, data: 'payload\n' });
    const env = { DOCKYARD_GC_GRACE: '0s' };
    // Deterministic "random" moments, spread over planning, running and recording.
    for (let round = 0; round < 4; round++) {
      const builds = [0, 1, 2].map((b) => startCli(buildArgs(cache, dir, ['--build-arg', `N=${b}`, '--build-arg', `ROUND=${round}`]), env));
      await sleep(200 + ((round * 389) % 900));
      builds[round % 3]!.kill();
      const prune = await startCli(['prune', '--cache-dir', cache, '--keep-storage', '500k'], env).done;
      assert.equal(prune.status, 0, prune.stderr);
      await Promise.all(builds.map((b) => b.done));
    }
    const du = runCli(['du', '--verify', '--cache-dir', cache]);
    assert.equal(du.status, 0, du.stdout + du.stderr);
    // Every build is over: the killed ones' leases have expired, so everything can go.
    const all = runCli(['prune', '--all', '--cache-dir', cache], { env });
    assert.equal(all.status, 0, all.stderr);
    assert.match(runCli(['du', '--cache-dir', cache]).stdout, /Records: 0\nBlobs: 0\nTotal: 0B\nLeases: 0\n/);
    assert.deepEqual(readdirSync(join(cache, 'leases')), []);
    assert.deepEqual(readdirSync(join(cache, 'snapshots')).filter((n) => !n.startsWith('empty-')), []);
    assert.deepEqual(readdirSync(join(cache, 'mounts')), [], 'prune unmounted what the killed builds left');
  });
});

describe('cache mounts across processes', () => {
  it('sharing=locked holds one step at a time across concurrent builds', async () => {
    const cache = freshCache();
    const df = 'FROM busybox\nARG N\nRUN --mount=type=cache,id=shared-lock,target=/c,sharing=locked sh -c "echo start-$N >> /c/log; sleep 0.4; echo end-$N >> /c/log"\n';
    const dir = makeDir({ Dockerfile: df });
    const runs = [0, 1, 2].map((n) => startCli(buildArgs(cache, dir, ['--build-arg', `N=${n}`])));
    for (const r of runs) assert.equal((await r.done).status, 0);
    const out = join(tempDir('out'), 'layout');
    const read = makeDir({ Dockerfile: 'FROM busybox\nRUN --mount=type=cache,id=shared-lock,target=/c cp /c/log /log\n' });
    const r = await startCli(buildArgs(cache, read, ['--no-cache'], out)).done;
    assert.equal(r.status, 0, r.stderr);
    const lines = readFileSync(join(unpack(out), 'rootfs/log'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 6);
    // Locked: every start is followed by its own end, never by another build's start.
    for (let i = 0; i < lines.length; i += 2) assert.equal(lines[i + 1], lines[i]!.replace('start', 'end'), lines.join(' '));
  });

  it('sharing=private gives concurrent builds in different processes their own directories', async () => {
    const cache = freshCache();
    const df = 'FROM busybox\nARG N\nRUN --mount=type=cache,id=priv,target=/c,sharing=private sh -c "echo $N > /c/owner; sleep 0.4; cat /c/owner > /seen; ls /c > /listing"\n';
    const dir = makeDir({ Dockerfile: df });
    const runs = [0, 1, 2].map((n) => {
      const out = join(tempDir('out'), 'layout');
      return { n, out, run: startCli(buildArgs(cache, dir, ['--build-arg', `N=${n}`], out)) };
    });
    for (const { n, out, run } of runs) {
      const r = await run.done;
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(join(unpack(out), 'rootfs/seen'), 'utf8'), `${n}\n`, 'no other build wrote into this build\'s private directory');
    }
  });
});
