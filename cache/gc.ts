import type { Digest } from '../oci/digest.js';
import type { BlobEntry, BlobStore } from './blob-store.js';
import type { CacheIndex, CacheRecord, IndexEntry } from './cache-index.js';
import type { LeasedSet } from './lease.js';

export interface PruneOptions {
  /** Remove every record, not only unused blobs. */
  all?: boolean;
  /** Keep records used within this many milliseconds. */
  keepDurationMs?: number;
  /** Remove least recently used records until blobs take at most this many bytes. */
  keepStorage?: number;
  /**
   * Blobs that no record uses are kept while younger than this: a build may be between writing one
   * and recording it. Content of the records this prune removes goes at once.
   */
  graceMs?: number;
  now?: Date;
}

export interface PruneResult {
  records: number;
  blobs: number;
  bytes: number;
  /** diffIDs still referenced or leased after pruning: their snapshots stay. */
  liveDiffIDs: Set<Digest>;
  /** diffIDs of the records removed: their snapshots go at once, whatever their age. */
  freedDiffIDs: Set<Digest>;
}

/** Bytes of every blob in the store (blobs removed while counting are skipped); undefined when the store cannot list. */
export async function blobUsage(blobs: BlobStore): Promise<{ count: number; bytes: number } | undefined> {
  if (!blobs.canList) return undefined;
  let bytes = 0;
  let count = 0;
  for await (const b of blobs.list()) (bytes += b.size), count++;
  return { count, bytes };
}

/**
 * Removes cache records by age, size or all, then every blob that no remaining record uses, sparing
 * whatever a live lease holds. Records go first: a crash between the two steps leaves unused blobs,
 * never a record pointing at a missing blob. Run it inside `LeaseManager.collect`.
 *
 * A store that cannot list (a registry) loses only the blobs of the records removed here that nothing
 * else uses or leases; blobs that no record ever named stay, for the registry's own GC.
 */
export async function prune(index: CacheIndex, blobs: BlobStore, leased: LeasedSet, opts: PruneOptions = {}): Promise<PruneResult> {
  const now = (opts.now ?? new Date()).getTime();
  const entries: IndexEntry[] = [];
  for await (const e of index.list()) entries.push(e);
  entries.sort((a, b) => a.lastUsed.getTime() - b.lastUsed.getTime());
  const keep: CacheRecord[] = [];
  const removedRecords: CacheRecord[] = [];
  const remove = async (record: CacheRecord): Promise<void> => {
    await index.remove(record.key);
    removedRecords.push(record);
  };
  for (const { record, lastUsed } of entries) {
    const old = opts.keepDurationMs !== undefined && now - lastUsed.getTime() > opts.keepDurationMs;
    if ((opts.all || old) && !leased.records.has(record.key)) await remove(record);
    else keep.push(record);
  }
  if (opts.keepStorage !== undefined) {
    // Oldest first: drop records until what the rest uses fits. Leased records stay whatever their size.
    const sizeOf = (recs: CacheRecord[]): number => {
      const seen = new Map<Digest, number>();
      for (const r of recs) for (const l of r.layers) seen.set(l.digest, l.size);
      return [...seen.values()].reduce((a, b) => a + b, 0);
    };
    const evictable = keep.filter((r) => !leased.records.has(r.key));
    while (evictable.length > 0 && sizeOf(keep) > opts.keepStorage) {
      const victim = evictable.shift()!;
      keep.splice(keep.indexOf(victim), 1);
      await remove(victim);
    }
  }
  const live = new Set<Digest>(leased.blobs);
  const liveDiffIDs = new Set<Digest>(leased.snapshots);
  for (const r of keep) for (const l of r.layers) (live.add(l.digest), liveDiffIDs.add(l.diffID));
  const freed = new Set<Digest>(removedRecords.flatMap((r) => r.layers.map((l) => l.digest)));
  let blobCount = 0;
  let bytes = 0;
  const candidates: AsyncIterable<BlobEntry> | Iterable<{ digest: Digest; size?: number }> = blobs.canList ? blobs.list() : [...freed].map((digest) => ({ digest }));
  for await (const b of candidates) {
    if (live.has(b.digest)) continue;
    // The grace period: a blob that arrived recently may be between its write and its record.
    if (!freed.has(b.digest) && 'arrived' in b && now - b.arrived.getTime() < (opts.graceMs ?? 0)) continue;
    const size = b.size ?? (await blobs.stat(b.digest));
    // false: another prune got there first
    if (size === undefined || !(await blobs.delete(b.digest))) continue;
    bytes += size;
    blobCount++;
  }
  const freedDiffIDs = new Set(removedRecords.flatMap((r) => r.layers.map((l) => l.diffID)));
  return { records: removedRecords.length, blobs: blobCount, bytes, liveDiffIDs, freedDiffIDs };
}

/** Sizes as docker and buildx take them, in binary units: `10GB`, `512m`, `64MiB`, `1024` (bytes). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new Error(`invalid size ${JSON.stringify(text)}: use a number with an optional unit, e.g. 10GB or 512MiB`);
  const power = ['', 'k', 'm', 'g', 't'].indexOf((m[2] ?? '').toLowerCase());
  return Math.round(Number(m[1]) * 1024 ** power);
}

/** Go-style durations as buildx takes them for --keep-duration: `24h`, `90m`, `7d`. */
export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration ${JSON.stringify(text)}: use e.g. 24h, 90m or 7d`);
  const unit: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };
  return Number(m[1]) * unit[m[2]!]!;
}

export function formatSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = bytes;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 2)}${units[i]}`;
}
