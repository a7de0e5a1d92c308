import { FileLeases } from '../../cache/file-leases.js';
import { FsBlobStore } from '../../cache/fs-blob-store.js';
import { FsCacheIndex } from '../../cache/fs-cache-index.js';
import { FsExplainStore } from '../../cache/fs-explain-store.js';
import { blobUsage, parseDurationMs, parseSize, prune, type PruneOptions } from '../../cache/gc.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { CopyLinks } from '../../worker/file/copy-links.js';
import { SnapshotStore } from '../../worker/snapshots/snapshot-store.js';
import { ContextHashStore } from '../context/file-hashes.js';
import { GzipMemberHints } from '../../worker/layers/gzip-member-hints.js';

/** `DOCKYARD_GC_GRACE`: how long unreferenced new content is spared (default 5m). */
export function gcGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  try {
    return parseDurationMs(env.DOCKYARD_GC_GRACE ?? '5m');
  } catch (err) {
    throw new ExpectedError(`DOCKYARD_GC_GRACE: ${(err as Error).message}`);
  }
}

/**
 * Prunes records and blobs, then the snapshots and explanations nothing refers to any more, sparing
 * what live leases hold. Safe beside running builds and other prunes, in this process or another.
 */
export async function pruneCache(dir: string, opts: PruneOptions): Promise<{ records: number; blobs: number; snapshots: number; bytes: number }> {
  const blobs = new FsBlobStore(dir);
  const graceMs = opts.graceMs ?? gcGraceMs();
  const snapshotStore = new SnapshotStore(dir, blobs);
  // Mounts and temporary files of builds that were killed go first: nothing else would unmount them.
  await snapshotStore.cleanStale();
  return new FileLeases(dir).collect(async (leased) => {
    const result = await prune(new FsCacheIndex(dir), blobs, leased, { ...opts, graceMs });
    const snapshots = await snapshotStore.removeExcept(result.liveDiffIDs, graceMs, result.freedDiffIDs);
    if (opts.all) {
      await new FsExplainStore(dir).clear();
      // Hints kept beside the cache: remembered context file hashes, earlier copies and gzip members.
      await new ContextHashStore(dir).clear();
      await new CopyLinks(dir).clear();
      await new GzipMemberHints(dir).clear();
    }
    return { records: result.records, blobs: result.blobs, snapshots, bytes: result.bytes };
  });
}

/** The automatic limit: `DOCKYARD_CACHE_MAX_SIZE` (default 20GB). Past it, the least recently used cache goes, down to 80%. */
export async function enforceCacheLimit(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const max = parseSize(env.DOCKYARD_CACHE_MAX_SIZE ?? '20GB');
  if (((await blobUsage(new FsBlobStore(dir)))?.bytes ?? 0) > max) await pruneCache(dir, { keepStorage: Math.floor(max * 0.8), graceMs: gcGraceMs(env) });
}
