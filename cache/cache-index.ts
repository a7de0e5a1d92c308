import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { open, rename, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../oci/digest.js';

/** One layer of a cached result: the compressed blob and the digest of its uncompressed tar. */
export interface LayerRecord {
  digest: Digest;
  diffID: Digest;
  size: number;
  mediaType: string;
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

/**
 * Maps step cache keys to results, one small JSON file per key. Records are written only after their
 * blobs are durable, and replace atomically, so a reader sees a whole record or none.
 */
export class CacheIndex {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'index');
    mkdirSync(this.dir, { recursive: true });
  }

  private file(key: Digest): string {
    return join(this.dir, key.slice(7) + '.json');
  }

  get(key: Digest): CacheRecord | undefined {
    const file = this.file(key);
    if (!existsSync(file)) return undefined;
    try {
      const rec = JSON.parse(readFileSync(file, 'utf8')) as CacheRecord;
      return rec.key === key && Array.isArray(rec.layers) ? rec : undefined;
    } catch {
      return undefined;
    }
  }

  async put(record: CacheRecord): Promise<void> {
    const tmp = join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(JSON.stringify(record));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file(record.key)).catch(async (err: unknown) => {
      await unlink(tmp).catch(() => undefined);
      throw err;
    });
  }

  /** Marks a record as used now, for least-recently-used pruning. */
  async touch(key: Digest): Promise<void> {
    const now = new Date();
    await utimes(this.file(key), now, now).catch(() => undefined);
  }

  async remove(key: Digest): Promise<void> {
    await unlink(this.file(key)).catch(() => undefined);
  }

  /** Every record with the time it was last used. */
  list(): { record: CacheRecord; lastUsed: Date }[] {
    const out: { record: CacheRecord; lastUsed: Date }[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const key = `sha256:${name.slice(0, -5)}` as Digest;
      const record = this.get(key);
      // A record pruned by another process between the two reads is simply not listed.
      const st = record && statSync(this.file(key), { throwIfNoEntry: false });
      if (record && st) out.push({ record, lastUsed: st.mtime });
    }
    return out;
  }
}
