import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../oci/digest.js';
import type { BlobStore } from './blob-store.js';
import type { CacheIndex, CacheRecord } from './cache-index.js';

export interface PruneOptions {
  /** Remove every record, not only unused blobs. */
  all?: boolean;
  /** Keep records used within this many milliseconds. */
  keepDurationMs?: number;
  /** Remove least recently used records until blobs take at most this many bytes. */
  keepStorage?: number;
  now?: Date;
}

export interface PruneResult {
  records: number;
  blobs: number;
  bytes: number;
  /** diffIDs still referenced after pruning: their snapshots stay. */
  liveDiffIDs: Set<Digest>;
}

/** Bytes of every blob in the store. */
export function blobUsage(blobs: BlobStore): { count: number; bytes: number } {
  let bytes = 0;
  const names = readdirSync(blobs.blobDir);
  for (const n of names) bytes += statSync(join(blobs.blobDir, n)).size;
  return { count: names.length, bytes };
}

/**
 * Removes cache records by age, size or all, then every blob no remaining record uses. Records go
 * first: a crash between the two steps leaves unused blobs, never a record pointing at a missing blob.
 */
export async function prune(index: CacheIndex, blobs: BlobStore, opts: PruneOptions = {}): Promise<PruneResult> {
  const now = (opts.now ?? new Date()).getTime();
  const entries = index.list().sort((a, b) => a.lastUsed.getTime() - b.lastUsed.getTime());
  const keep: CacheRecord[] = [];
  let removed = 0;
  for (const { record, lastUsed } of entries) {
    const old = opts.keepDurationMs !== undefined && now - lastUsed.getTime() > opts.keepDurationMs;
    if (opts.all || old) {
      await index.remove(record.key);
      removed++;
    } else keep.push(record);
  }
  if (opts.keepStorage !== undefined) {
    // Oldest first: drop records until what the rest uses fits.
    const sizeOf = (recs: CacheRecord[]): number => {
      const seen = new Map<Digest, number>();
      for (const r of recs) for (const l of r.layers) seen.set(l.digest, l.size);
      return [...seen.values()].reduce((a, b) => a + b, 0);
    };
    while (keep.length > 0 && sizeOf(keep) > opts.keepStorage) {
      await index.remove(keep.shift()!.key);
      removed++;
    }
  }
  const live = new Set<Digest>();
  const liveDiffIDs = new Set<Digest>();
  for (const r of keep) for (const l of r.layers) (live.add(l.digest), liveDiffIDs.add(l.diffID));
  let blobCount = 0;
  let bytes = 0;
  for (const name of readdirSync(blobs.blobDir)) {
    const digest = `sha256:${name}` as Digest;
    if (live.has(digest)) continue;
    const path = join(blobs.blobDir, name);
    bytes += statSync(path).size;
    unlinkSync(path);
    blobCount++;
  }
  return { records: removed, blobs: blobCount, bytes, liveDiffIDs };
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
