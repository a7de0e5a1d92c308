import { createHash } from 'node:crypto';
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../oci/digest.js';
import type { BlobStore } from './blob-store.js';
import type { CacheIndex } from './cache-index.js';
import type { Lease } from './lease.js';

export interface VerifyReport {
  records: number;
  blobs: number;
  /** One line per problem: a record missing a blob, a blob whose content does not match its name. */
  problems: string[];
}

/**
 * Checks the whole cache: every record's blobs are present and every blob hashes to its name. Each
 * record is leased before it is checked, so pruning beside it cannot produce a false alarm.
 */
export async function verifyCache(index: CacheIndex, blobs: BlobStore, lease: Lease): Promise<VerifyReport> {
  const problems: string[] = [];
  let records = 0;
  for (const { record } of index.list()) {
    await lease.add([{ kind: 'record', key: record.key }, ...record.layers.map((l) => ({ kind: 'blob', digest: l.digest }) as const)]);
    const current = index.get(record.key);
    if (!current) continue; // pruned before the lease took hold
    records++;
    for (const l of current.layers) if (!blobs.has(l.digest)) problems.push(`record ${record.key}: blob ${l.digest} is missing`);
  }
  let count = 0;
  for (const name of readdirSync(blobs.blobDir)) {
    const actual = await hashFile(join(blobs.blobDir, name));
    if (actual === undefined) continue; // pruned meanwhile
    count++;
    if (actual !== `sha256:${name}`) problems.push(`blob sha256:${name} is corrupt (content hashes to ${actual})`);
  }
  return { records, blobs: count, problems };
}

function hashFile(path: string): Promise<Digest | undefined> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(`sha256:${hash.digest('hex')}`))
      .on('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? resolve(undefined) : reject(err)));
  });
}
