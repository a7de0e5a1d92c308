import type { Digest } from '../oci/digest.js';

/** One layer of a cached result: the compressed blob and the digest of its uncompressed tar. */
export interface LayerRecord {
  digest: Digest;
  diffID: Digest;
  size: number;
  mediaType: string;
  /**
   * Stored uncompressed by a worker that compresses lazily (the blob's digest is its diffID): an image
   * carries it gzip-compressed, made when an export first needs it.
   */
  gzipOnExport?: true;
}

/** What a step produced: the whole layer chain of its filesystem, base first. */
export interface CacheRecord {
  key: Digest;
  layers: LayerRecord[];
  /** When the record was written (ISO time). */
  created: string;
  /** True when the step's own diff was empty, so its chain is its parent's. */
  emptyLayer?: boolean;
}

export interface IndexEntry {
  record: CacheRecord;
  /** When the record was last written or touched, for least-recently-used pruning. */
  lastUsed: Date;
}

/**
 * Maps step cache keys to results: `FsCacheIndex` (one file per key, the embedded cache) or
 * `RedisCacheIndex` (the farm). Records are written only after their blobs are durable and replace
 * atomically, so a reader sees a whole record or none.
 */
export interface CacheIndex {
  get(key: Digest): Promise<CacheRecord | undefined>;
  put(record: CacheRecord): Promise<void>;
  /** Marks a record as used now; nothing happens when there is none. */
  touch(key: Digest): Promise<void>;
  remove(key: Digest): Promise<void>;
  /** Every record with the time it was last used. A record removed meanwhile is simply not listed. */
  list(): AsyncIterable<IndexEntry>;
}

/** A parsed record, or undefined when the text is not a record for `key`. */
export function parseRecord(text: string, key: Digest): CacheRecord | undefined {
  try {
    const rec = JSON.parse(text) as CacheRecord;
    return rec.key === key && Array.isArray(rec.layers) ? rec : undefined;
  } catch {
    return undefined;
  }
}
