import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobStore } from '../../cache/blob-store.js';
import { CacheIndex } from '../../cache/cache-index.js';
import { blobUsage, parseSize, prune, type PruneOptions } from '../../cache/gc.js';
import { SnapshotStore } from '../../worker/snapshots/snapshot-store.js';

/** Prunes records and blobs, then the snapshots and explanations nothing refers to any more. */
export async function pruneCache(dir: string, opts: PruneOptions): Promise<{ records: number; blobs: number; snapshots: number; bytes: number }> {
  const blobs = new BlobStore(dir);
  const result = await prune(new CacheIndex(dir), blobs, opts);
  const snapshots = await new SnapshotStore(dir, blobs).removeExcept(result.liveDiffIDs);
  if (opts?.all) await rm(join(dir, 'explain'), { recursive: true, force: true });
  return { records: result.records, blobs: result.blobs, snapshots, bytes: result.bytes };
}

/** The automatic limit: `DOCKYARD_CACHE_MAX_SIZE` (default 20GB). Past it, the least recently used cache goes, down to 80%. */
export async function enforceCacheLimit(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const max = parseSize(env.DOCKYARD_CACHE_MAX_SIZE ?? '20GB');
  if (blobUsage(new BlobStore(dir)).bytes > max) await pruneCache(dir, { keepStorage: Math.floor(max * 0.8) });
}
