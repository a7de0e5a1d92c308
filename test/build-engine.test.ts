import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { FileLeases } from '../cache/file-leases.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { FsCacheIndex } from '../cache/fs-cache-index.js';
import { FsExplainStore } from '../cache/fs-explain-store.js';
import { parseBuildContextFlag } from '../coordinator/context/named-contexts.js';
import { runBuild, type BuildEngine } from '../coordinator/solver/build.js';
import { contextOpener } from '../coordinator/solver/contexts.js';
import { Progress } from '../coordinator/progress/progress.js';
import { hostPlatform } from '../oci/platform.js';
import { LocalWorker } from '../worker/local/local-worker.js';
import { SnapshotStore } from '../worker/snapshots/snapshot-store.js';
import type { Worker } from '../worker/worker.js';
import { busyboxLayout, requireTools } from './engine-helpers.js';
import { makeDir, runCli, tempDir } from './helpers.js';

const dockerfile = 'FROM busybox AS build\nRUN echo hi > /hi && rm /bin/ls\nFROM build\nCOPY app.txt /app/\n';

/**
 * An engine as a coordinator composes one: stores and worker given from outside, and no rootfs of the
 * worker's, so `local`/`tar` outputs are unpacked from the blob store. Counts what its worker runs.
 */
function blobEngine(root: string, executed: string[]): BuildEngine {
  const workerDir = join(root, 'worker');
  return {
    stores: { blobs: new FsBlobStore(join(root, 'store')), index: new FsCacheIndex(join(root, 'index')), explanations: new FsExplainStore(join(root, 'index')), leases: new FileLeases(join(root, 'index')) },
    scratchDir: join(root, 'scratch'),
    async openWorker(lease, blobs) {
      const snapshots = new SnapshotStore(workerDir, blobs, lease);
      const local = new LocalWorker(blobs, snapshots, workerDir);
      const worker: Worker = {
        execute: (step, inputs, ctx) => {
          executed.push(step.kind);
          return local.execute(step, inputs, ctx);
        },
      };
      return { worker, close: () => snapshots.releaseAll() };
    },
  };
}

describe('a build on an injected engine', () => {
  before(() => requireTools());

  it('runs its steps on the given worker and exports local and tar outputs from the blob store, as the local build does', async () => {
    const layout = busyboxLayout();
    const dir = makeDir({ Dockerfile: dockerfile, 'app.txt': 'v1\n' });
    const out = tempDir('engine-out');
    const local = runCli(['build', '--progress', 'quiet', '--cache-dir', tempDir('cache'), '--build-context', `busybox=oci-layout://${layout}`, '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '-o', `type=local,dest=${out}/local-fs`, '-o', `type=tar,dest=${out}/local.tar`, dir]);
    assert.equal(local.status, 0, local.stderr);

    const executed: string[] = [];
    const namedContexts = new Map([parseBuildContextFlag(`busybox=oci-layout://${layout}`)].map((c) => [c.name, c] as const));
    const result = await runBuild(
      {
        plan: { dockerfileName: 'Dockerfile', dockerfileText: dockerfile, context: contextOpener(dir, join(dir, 'Dockerfile'), namedContexts), buildArgs: new Map([['SOURCE_DATE_EPOCH', '1700000000']]), platforms: [], buildPlatform: hostPlatform(), labels: new Map(), secretIds: new Set(), namedContexts },
        outputs: [
          { type: 'local', dest: join(out, 'fs') },
          { type: 'tar', dest: join(out, 'fs.tar') },
        ],
        tags: [],
        progress: new Progress('quiet'),
        noCache: false,
        noCacheFilter: [],
        secrets: { get: async () => undefined },
      },
      blobEngine(tempDir('engine'), executed),
    );
    assert.deepEqual(executed.sort(), ['exec', 'file']);
    assert.equal(result.top.digest, local.stdout.trim(), 'same image as the local build');
    assert.equal(readFileSync(join(out, 'fs/hi'), 'utf8'), 'hi\n');
    assert.equal(readFileSync(join(out, 'fs/app/app.txt'), 'utf8'), 'v1\n');
    assert.equal(readlinkSync(join(out, 'fs/bin/sh')), '/bin/busybox');
    assert.deepEqual(readdirSync(join(out, 'fs/bin')).sort(), readdirSync(join(out, 'local-fs/bin')).sort(), 'the deleted file stays deleted');
    assert.ok(!readdirSync(join(out, 'fs/bin')).includes('ls'));
    const list = (f: string): string[] => spawnSync('tar', ['-tf', f], { encoding: 'utf8' }).stdout.split('\n').sort();
    assert.deepEqual(list(join(out, 'fs.tar')), list(join(out, 'local.tar')));
  });
});
