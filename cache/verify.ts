import { BlobError, type BlobStore } from './blob-store.js';
import type { CacheIndex } from './cache-index.js';
import type { Lease } from './lease.js';

export interface VerifyReport {
  records: number;
  blobs: number;
  /** One line per problem: a record missing a blob, a blob whose content does not match its name. */
  problems: string[];
}

/**
 * Checks the whole cache: every record's blobs are present and, when the store can list, every blob
 * hashes to its name. Each record is leased before it is checked, so pruning beside it cannot produce
 * a false alarm.
 */
export async function verifyCache(index: CacheIndex, blobs: BlobStore, lease: Lease): Promise<VerifyReport> {
  const problems: string[] = [];
  let records = 0;
  for await (const { record } of index.list()) {
    await lease.add([{ kind: 'record', key: record.key }, ...record.layers.map((l) => ({ kind: 'blob', digest: l.digest }) as const)]);
    const current = await index.get(record.key);
    if (!current) continue; // pruned before the lease took hold
    records++;
    for (const l of current.layers) if ((await blobs.stat(l.digest)) === undefined) problems.push(`record ${record.key}: blob ${l.digest} is missing`);
  }
  let count = 0;
  if (blobs.canList) {
    for await (const { digest } of blobs.list()) {
      try {
        for await (const _ of blobs.stream(digest));
      } catch (err) {
        if (err instanceof BlobError) problems.push(err.message);
        else if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // pruned meanwhile
        else throw err;
      }
      count++;
    }
  }
  return { records, blobs: count, problems };
}
