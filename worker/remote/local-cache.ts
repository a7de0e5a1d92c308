import { join } from 'node:path';
import type { LayerRecord } from '../../cache/cache-index.js';
import { finished } from 'node:stream/promises';
import { copyBlob, putBlob, verified, type BlobStore } from '../../cache/blob-store.js';
import { FileLeases } from '../../cache/file-leases.js';
import { FsBlobStore } from '../../cache/fs-blob-store.js';
import { FsCacheIndex } from '../../cache/fs-cache-index.js';
import { prune } from '../../cache/gc.js';
import type { Lease } from '../../cache/lease.js';
import type { Digest } from '../../oci/digest.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { forEachLimited } from '../../oci/for-each-limited.js';
import { SnapshotStore } from '../snapshots/snapshot-store.js';
import { lockFile, type FileLock } from '../system/flock.js';
import { runcDeleteAll } from '../system/runc.js';

/** What `ensure` fetched: how many blobs and snapshots, and each unpacked snapshot's size by diffID. */
export interface Fetched {
  downloaded: number;
  unpacked: Map<Digest, number>;
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
  /**
   * What the records say the layers take here, kept between steps instead of read from every record
   * each time: this worker alone writes its index (`claim`). Counted again after a prune.
   */
  private used?: number;
  /** Records added since the process started: a count that overlapped one is not kept. */
  private added = 0;

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
   * Makes the inputs local: each file blob in `files` into the blob store, each layer in `unpack` as
   * its snapshot only, unpacked as it downloads (`fetchSnapshot`): the coordinator keeps the layer's
   * blob, so a second local copy would only cost a write and a sync on the way to a cache hit. Returns
   * how many it downloaded; all downloads run at once.
   */
  async ensure(session: CacheSession, files: Digest[], remote: BlobStore, unpack: LayerRecord[] = []): Promise<Fetched> {
    const fetched: Fetched = { downloaded: 0, unpacked: new Map() };
    const fetches = await Promise.allSettled([
      (async () => {
        // Not `+=` on an await: the layers below count into the same field meanwhile.
        const n = await fetchFiles(session, [...new Set(files)], remote);
        fetched.downloaded += n;
      })(),
      ...[...new Map(unpack.map((l) => [l.diffID, l])).values()].map(async (l) => {
        const bytes = await fetchSnapshot(session, l, remote);
        if (bytes === undefined) return;
        fetched.unpacked.set(l.diffID, bytes);
        fetched.downloaded++;
      }),
    ]);
    // Every fetch has ended before a failure is reported: none goes on writing after the step's lease ends.
    const failed = fetches.find((f) => f.status === 'rejected');
    if (failed) throw failed.reason;
    return fetched;
  }

  /**
   * Records layers as used now, for the least-recently-used bound. A new record's size is what the
   * layer takes here: its unpacked size when only its snapshot was fetched (`unpacked`), else its blob's.
   */
  async remember(layers: LayerRecord[], unpacked: ReadonlyMap<Digest, number> = new Map()): Promise<void> {
    for (const l of layers) {
      await this.index.touch(l.digest);
      if (await this.index.get(l.digest)) continue;
      const size = unpacked.get(l.diffID) ?? l.size;
      await this.index.put({ key: l.digest, layers: [{ ...l, size }], created: new Date().toISOString() });
      this.added++;
      if (this.used !== undefined) this.used += size;
    }
  }

  /** Past the bound, the least recently used layers go (down to 80%), with their snapshots. */
  async enforceLimit(): Promise<void> {
    if ((this.used ?? (await this.count())) <= this.maxBytes) return;
    const blobs = new FsBlobStore(this.dir);
    const snapshots = new SnapshotStore(this.dir, blobs);
    await this.leases.collect(async (leased) => {
      const result = await prune(this.index, blobs, leased, { keepStorage: Math.floor(this.maxBytes * 0.8), graceMs: this.graceMs });
      await snapshots.removeExcept(result.liveDiffIDs, this.graceMs, result.freedDiffIDs);
    });
    this.used = undefined;
  }

  /** What the records say the layers take here, as prune's keepStorage counts it; kept unless a record was added meanwhile. */
  private async count(): Promise<number> {
    const before = this.added;
    let used = 0;
    for await (const { record } of this.index.list()) used += record.layers.reduce((n, l) => n + l.size, 0);
    if (this.added === before) this.used = used;
    return used;
  }
}

/**
 * One layer's snapshot, unpacked from `remote`'s bytes as they arrive; it is renamed into place only
 * once the bytes hash to the layer's digest, so bytes that do not match leave nothing. Its unpacked
 * size, or undefined when the snapshot was already here.
 */
async function fetchSnapshot(session: CacheSession, layer: LayerRecord, remote: BlobStore): Promise<number | undefined> {
  // Leased before it is looked for, so no prune takes it between the two.
  await session.lease.add([{ kind: 'snapshot', diffID: layer.diffID }]);
  if (session.snapshots.has(layer.diffID)) return undefined;
  // Checked here, on the bytes unpacked; the Content client does not hash them a second time.
  const checked = verified(layer.digest, remote.unchecked ? remote.unchecked(layer.digest) : remote.stream(layer.digest));
  const whole = finished(checked);
  whole.catch(() => undefined); // reported by the extraction, which reads the same stream
  return session.snapshots.ensureFrom(layer, checked, whole);
}

/** Digests per GetBlobs call, and such calls at a time. */
const FILES_PER_CALL = 256;
const CALLS_AT_ONCE = 4;

/**
 * The file blobs of `files` this cache lacks, fetched from `remote`: small ones many to a call where
 * it can (a context is mostly small files), the rest one by one. How many were fetched.
 */
async function fetchFiles(session: CacheSession, files: Digest[], remote: BlobStore): Promise<number> {
  const held = await Promise.all(files.map((d) => session.blobs.hold(d)));
  let missing = files.filter((_, i) => !held[i]);
  const count = missing.length;
  if (remote.getBlobs) {
    const calls: Digest[][] = [];
    for (let i = 0; i < missing.length; i += FILES_PER_CALL) calls.push(missing.slice(i, i + FILES_PER_CALL));
    const got = new Set<Digest>();
    await forEachLimited(calls, CALLS_AT_ONCE, async (call) => {
      const blobs = await remote.getBlobs!(call);
      await forEachLimited([...blobs], 16, async ([digest, data]) => {
        await putBlob(session.blobs, data, digest);
        got.add(digest);
      });
    });
    missing = missing.filter((d) => !got.has(d));
  }
  // forEachLimited throws a failure once the running copies have ended: none goes on writing once the step's lease ends.
  await forEachLimited(missing, 16, async (d) => void (await copyBlob(remote, session.blobs, d)));
  return count;
}
