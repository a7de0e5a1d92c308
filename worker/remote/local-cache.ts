import { join } from 'node:path';
import type { LayerRecord } from '../../cache/cache-index.js';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../cache/blob-store.js';
import { FileLeases } from '../../cache/file-leases.js';
import { FsBlobStore } from '../../cache/fs-blob-store.js';
import { FsCacheIndex } from '../../cache/fs-cache-index.js';
import { blobUsage, prune } from '../../cache/gc.js';
import type { Lease } from '../../cache/lease.js';
import type { Digest } from '../../oci/digest.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { SnapshotStore } from '../snapshots/snapshot-store.js';
import { lockFile, type FileLock } from '../system/flock.js';
import { runcDeleteAll } from '../system/runc.js';

/** One step's view of the worker's cache: everything it reads or makes is leased until `release`. */
export interface CacheSession {
  blobs: FsBlobStore;
  snapshots: SnapshotStore;
  lease: Lease;
}

/**
 * The worker's own cache directory: a download cache of the coordinator's blobs (layers, file
 * contents) plus their unpacked snapshots, bounded by size. Each layer it fetches or makes gets a
 * record in a local index (keyed by the blob's digest), touched on every use, so the existing
 * least-recently-used prune applies, sparing what running steps lease.
 */
export class LocalCache {
  private readonly leases: FileLeases;
  private readonly index: FsCacheIndex;
  private lock?: FileLock;

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    private readonly graceMs: number,
  ) {
    this.leases = new FileLeases(dir);
    this.index = new FsCacheIndex(dir);
  }

  /**
   * Makes the directory this worker's alone (a lock that dies with the process), then removes what a
   * killed worker left behind: its containers, mounts and temporary files.
   */
  async claim(): Promise<void> {
    this.lock = await lockFile(join(this.dir, 'worker.lock'), { wait: false });
    if (!this.lock) throw new ExpectedError(`another dockyard worker uses the cache directory ${this.dir}`);
    await runcDeleteAll(join(this.dir, 'runc'));
    await new SnapshotStore(this.dir, new FsBlobStore(this.dir)).cleanStale();
  }

  async unclaim(): Promise<void> {
    await this.lock?.release();
    this.lock = undefined;
  }

  async open(): Promise<CacheSession> {
    const lease = await this.leases.create();
    const blobs = new FsBlobStore(this.dir, lease);
    return { blobs, snapshots: new SnapshotStore(this.dir, blobs, lease), lease };
  }

  /** Makes each blob local, downloading from the coordinator's store what is missing; returns how many it downloaded. */
  async ensure(session: CacheSession, digests: Digest[], remote: BlobStore): Promise<number> {
    let downloaded = 0;
    await Promise.all(
      [...new Set(digests)].map(async (d) => {
        if (await session.blobs.hold(d)) return;
        await copyBlob(remote, session.blobs, d);
        downloaded++;
      }),
    );
    return downloaded;
  }

  /** Records layers as used now, for the LRU bound. */
  async remember(layers: LayerRecord[]): Promise<void> {
    for (const l of layers) {
      await this.index.touch(l.digest);
      if (!(await this.index.get(l.digest))) await this.index.put({ key: l.digest, layers: [l], created: new Date().toISOString() });
    }
  }

  /** Past the bound, the least recently used layers go (down to 80%), with their snapshots. */
  async enforceLimit(): Promise<void> {
    const blobs = new FsBlobStore(this.dir);
    if (((await blobUsage(blobs))?.bytes ?? 0) <= this.maxBytes) return;
    const snapshots = new SnapshotStore(this.dir, blobs);
    await this.leases.collect(async (leased) => {
      const result = await prune(this.index, blobs, leased, { keepStorage: Math.floor(this.maxBytes * 0.8), graceMs: this.graceMs });
      await snapshots.removeExcept(result.liveDiffIDs, this.graceMs, result.freedDiffIDs);
    });
  }
}

/** One blob from `from` into `to`, digest checked when `to` commits it. */
export async function copyBlob(from: BlobStore, to: BlobStore, digest: Digest): Promise<void> {
  const w = to.writer(digest);
  try {
    await pipeline(from.stream(digest), w);
  } catch (err) {
    await w.abort();
    throw err;
  }
  await w.commit();
}
