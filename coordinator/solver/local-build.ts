import { join } from 'node:path';
import { FileLeases } from '../../cache/file-leases.js';
import { FsBlobStore } from '../../cache/fs-blob-store.js';
import { FsCacheIndex } from '../../cache/fs-cache-index.js';
import { FsExplainStore } from '../../cache/fs-explain-store.js';
import { LocalWorker, type LocalWorkerOptions } from '../../worker/local/local-worker.js';
import { SnapshotStore } from '../../worker/snapshots/snapshot-store.js';
import { GzipMemberHints } from '../../worker/layers/gzip-member-hints.js';
import { runBuild, type BuildEngine, type BuildRequest, type BuildResult } from './build.js';
import { enforceCacheLimit } from './cache-maintenance.js';
import { trace } from '../../oci/trace.js';

/**
 * The embedded engine: the cache directory's filesystem stores and a `LocalWorker` in this process,
 * whose snapshots also give the `local`/`tar` outputs their filesystem (no second unpack).
 */
export function localEngine(cacheDir: string, options: LocalWorkerOptions = { layerWrites: 'lazy', linkUnchanged: true }): BuildEngine {
  const gzipMembers = new GzipMemberHints(cacheDir);
  const workerOptions = { ...options, gzipMembers };
  return {
    stores: { blobs: new FsBlobStore(cacheDir), index: new FsCacheIndex(cacheDir), explanations: new FsExplainStore(cacheDir), leases: new FileLeases(cacheDir) },
    // The snapshot store removes what a killed build left here.
    scratchDir: join(cacheDir, 'tmp'),
    gzipMembers,
    async openWorker(lease, blobs) {
      const snapshots = new SnapshotStore(cacheDir, blobs, lease);
      await snapshots.cleanStale();
      return {
        worker: new LocalWorker(blobs, snapshots, cacheDir, workerOptions),
        rootfs: (layers) => snapshots.mount(layers, false),
        abort: () => void snapshots.releaseAll(),
        close: async () => {
          await snapshots.releaseAll();
          // Layer tars still running (a failed or cancelled build) end before their snapshots are placed.
          await snapshots.settleKept();
        },
      };
    },
  };
}

/** Plans, executes and exports one build on this machine, with the embedded cache in `cacheDir`. */
export async function build(req: BuildRequest & { cacheDir: string }): Promise<BuildResult> {
  let result: BuildResult | undefined;
  try {
    result = await runBuild(req, localEngine(req.cacheDir));
    return result;
  } finally {
    trace('lease released');
    // A build that ran no step added little (its config and manifest, at most a layer compressed for
    // its export): checking the limit, which stats every blob (5 to 10 ms of a no-op here, more in a
    // larger cache), waits for the next build that runs one.
    if (!result || result.misses.length > 0) await enforceCacheLimit(req.cacheDir);
    trace('cache limit');
  }
}
