import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { before, describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FileLeases } from '../cache/file-leases.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { FsCacheIndex } from '../cache/fs-cache-index.js';
import { Progress } from '../coordinator/progress/progress.js';
import { Solver } from '../coordinator/solver/solver.js';
import type { Worker } from '../worker/worker.js';
import { busyboxLayout, buildOci, freshCache, requireTools, rootfsFile, singlePlatform, stepStates, unpack } from './engine-helpers.js';
import { plan, tempDir } from './helpers.js';

before(() => {
  requireTools();
  busyboxLayout();
});

/**
 * Stages s1..sN whose RUNs meet through a shared cache mount: each leaves a mark and waits until all N
 * marks are there, so none can finish unless all N run at the same time. The wait is bounded only so
 * that a failure ends; a working build never waits for long. Stage s1copy is identical to s1.
 */
function rendezvousDockerfile(n: number): string {
  const run = (i: number): string =>
    `RUN --mount=type=cache,id=rendezvous,target=/rv touch /rv/s${i} && t=0; ` +
    `until [ $(ls /rv | wc -l) -ge ${n} ] || [ $t -ge 1200 ]; do sleep 0.1; t=$((t+1)); done; ` +
    `if [ $(ls /rv | wc -l) -ge ${n} ]; then echo met > /met; else echo alone > /met; fi; ` +
    'head -c 16 /dev/urandom | od -An -tx1 > /token';
  const stages = [];
  for (let i = 1; i <= n; i++) stages.push(`FROM busybox AS s${i}`, run(i));
  stages.push('FROM busybox AS s1copy', run(1), 'FROM busybox');
  for (let i = 1; i <= n; i++) stages.push(`COPY --from=s${i} /met /met-s${i}`, `COPY --from=s${i} /token /token-s${i}`);
  stages.push('COPY --from=s1copy /token /token-s1copy');
  return stages.join('\n');
}

describe('scheduling inside one build', () => {
  it('runs independent stages at the same time, as many as --max-parallelism allows, and identical work once', () => {
    // One more than the default limit (the CPU count): they can only meet if the flag raised it.
    const n = availableParallelism() + 1;
    const r = buildOci({ Dockerfile: rendezvousDockerfile(n) }, ['--max-parallelism', String(n)], { cache: freshCache() });
    assert.equal(r.status, 0, r.stderr);
    const fs = unpack(singlePlatform(r.layout, 'amd64'));
    for (let i = 1; i <= n; i++) assert.equal(rootfsFile(fs, `met-s${i}`), 'met\n', `stage s${i} ran alone: the ${n} stages did not run together`);
    const runs = stepStates(r.stderr).ran.filter((s) => s.includes('] RUN '));
    assert.equal(runs.length, n, `identical RUNs collapse into one: ${runs.join(' | ')}`);
    assert.equal(rootfsFile(fs, 'token-s1copy'), rootfsFile(fs, 'token-s1'), 's1 and s1copy are the same step, so the same result');
  });

  it('never runs more steps at once than --max-parallelism, and that many whenever it can', async () => {
    // Three independent RUNs that finish only when the test lets them, on a worker that only counts.
    const p = await plan('FROM busybox AS a\nRUN a\nFROM busybox AS b\nRUN b\nFROM busybox AS c\nRUN c\nFROM scratch\nCOPY --from=a /a /a\nCOPY --from=b /b /b\nCOPY --from=c /c /c\n');
    for (const limit of [1, 2]) {
      let running = 0;
      let most = 0;
      const held: (() => void)[] = [];
      const enter = (): void => void (most = Math.max(most, ++running));
      const worker: Worker = {
        async execute(step) {
          enter();
          if (step.kind === 'exec') await new Promise<void>((r) => held.push(r));
          running--;
          return { layers: [], emptyLayer: true };
        },
      };
      const cache = tempDir('solver');
      const solver = new Solver({
        plan: p,
        worker,
        blobs: new FsBlobStore(cache),
        index: new FsCacheIndex(cache),
        lease: await new FileLeases(cache).create(),
        images: {
          async pull() {
            enter();
            running--;
            return [];
          },
        },
        downloaded: () => Promise.reject(new Error('no URL in this plan')),
        gitCheckout: () => Promise.reject(new Error('no git source in this plan')),
        localContext: () => assert.fail('no context in this plan'),
        progress: new Progress('quiet'),
        secrets: { get: () => Promise.resolve(undefined) },
        skipCache: () => true,
        maxParallelism: limit,
      });
      const done = solver.solve(p.targets[0]!.result!);
      // Nothing here does I/O, so by the next turn of the event loop every step that could start has started.
      const heldAtOnce: number[] = [];
      for (let left = 3; left > 0; left--) {
        await nextTurn();
        heldAtOnce.push(held.length);
        held.shift()?.();
      }
      await done;
      await solver.flush();
      assert.deepEqual(heldAtOnce, limit === 1 ? [1, 1, 1] : [2, 2, 1], `RUNs running at once with --max-parallelism ${limit}`);
      assert.equal(most, limit, `steps running at once with --max-parallelism ${limit}`);
    }
  });
});
