import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobStore } from '../../cache/blob-store.js';
import { CacheIndex } from '../../cache/cache-index.js';
import { FileLeases } from '../../cache/file-leases.js';
import { blobUsage, parseDurationMs, parseSize, prune, type PruneOptions } from '../../cache/gc.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { SnapshotStore } from '../../worker/snapshots/snapshot-store.js';

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
  const blobs = new BlobStore(dir);
  const graceMs = opts.graceMs ?? gcGraceMs();
  const snapshotStore = new SnapshotStore(dir, blobs);
  // Mounts and temporary files of builds that were killed go first: nothing else would unmount them.
  await snapshotStore.cleanStale();
  return new FileLeases(dir).collect(async (leased) => {
    const result = await prune(new CacheIndex(dir), blobs, leased, { ...opts, graceMs });
    const snapshots = await snapshotStore.removeExcept(result.liveDiffIDs, graceMs, result.freedDiffIDs);
    if (opts.all) {
      // File by file: concurrent builds keep writing explanations into the folder.
      const explain = join(dir, 'explain');
      for (const name of existsSync(explain) ? readdirSync(explain) : []) if (!name.startsWith('.')) await rm(join(explain, name), { force: true });
    }
    return { records: result.records, blobs: result.blobs, snapshots, bytes: result.bytes };
  });
}

/** The automatic limit: `DOCKYARD_CACHE_MAX_SIZE` (default 20GB). Past it, the least recently used cache goes, down to 80%. */
export async function enforceCacheLimit(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const max = parseSize(env.DOCKYARD_CACHE_MAX_SIZE ?? '20GB');
  if (blobUsage(new BlobStore(dir)).bytes > max) await pruneCache(dir, { keepStorage: Math.floor(max * 0.8), graceMs: gcGraceMs(env) });
}
