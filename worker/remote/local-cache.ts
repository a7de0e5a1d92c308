import { join } from 'node:path';
import type { LayerRecord } from '../../cache/cache-index.js';
import { PassThrough, type Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
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

/** The coordinator's store; `unchecked` (ContentBlobStore) skips a second hashing of what a writer checks anyway. */
export interface RemoteBlobs extends BlobStore {
  unchecked?(digest: Digest): Readable;
}

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

  /**
   * Makes each blob local, downloading from the coordinator's store what is missing; returns how many
   * it downloaded. The missing blob of a layer in `unpack` whose snapshot is missing too is unpacked
   * as it downloads, in the same pass (`fetchLayer`). All downloads run at once.
   */
  async ensure(session: CacheSession, digests: Digest[], remote: RemoteBlobs, unpack: LayerRecord[] = []): Promise<number> {
    const layers = new Map(unpack.map((l) => [l.digest, l]));
    let downloaded = 0;
    const fetches = await Promise.allSettled(
      [...new Set([...digests, ...layers.keys()])].map(async (d) => {
        if (await session.blobs.hold(d)) return;
        const layer = layers.get(d);
        if (layer) await fetchLayer(session, layer, remote);
        else await copyBlob(remote, session.blobs, d);
        downloaded++;
      }),
    );
    // Every fetch has ended before a failure is reported: none goes on writing after the step's lease ends.
    const failed = fetches.find((f) => f.status === 'rejected');
    if (failed) throw failed.reason;
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

/**
 * One layer's blob from `remote`, read once: its bytes go to the local blob writer and to the snapshot
 * extractor together. The snapshot is renamed into place only after the blob's digest is checked, so
 * bytes that do not match leave neither; the digest error is the one reported.
 */
async function fetchLayer(session: CacheSession, layer: LayerRecord, remote: RemoteBlobs): Promise<void> {
  // The writer checks the digest, and the snapshot waits for that check.
  const w = session.blobs.writer(layer.digest);
  const toSnapshot = new PassThrough({ highWaterMark: 4 << 20 });
  const src = remote.unchecked ? remote.unchecked(layer.digest) : remote.stream(layer.digest);
  // Two destinations, one source: pipe reads on when both have room, and drops one that closes.
  src.pipe(w);
  src.pipe(toSnapshot);
  src.once('error', (err) => {
    w.destroy(err);
    toSnapshot.destroy(err);
  });
  const blob = finished(w).then(() => w.commit());
  const [b, s] = await Promise.allSettled([blob, session.snapshots.ensureFrom(layer, toSnapshot, blob)]);
  if (b.status === 'rejected') {
    src.destroy();
    await w.abort();
    throw b.reason;
  }
  if (s.status === 'rejected') throw s.reason;
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
